using System.Net;
using System.Net.Http.Headers;
using Inference.Engine.Store;

namespace Inference.Engine.Registry;

/// <summary>
/// The upload half of the OCI distribution protocol, as Ollama's push speaks it: HEAD a blob to see whether
/// the registry has it, POST to open an upload session, PATCH the blob in chunks (Content-Range
/// <c>start-end</c>), PUT <c>?digest=</c> to commit it, and PUT the manifest last. No credentials are sent
/// (pulls send none either): a registry that asks for them is answered with 401 and its message.
/// </summary>
/// <remarks>
/// Everything the registry says is bounded: an upload location must stay on the registry's own scheme, host
/// and port (so model bytes never go anywhere the user did not name), and at most <see cref="MaxLocationLength"/>
/// characters long; error bodies are read up to <see cref="RegistryErrorText.MaxBodyBytes"/>. The HttpClient
/// this class gets does not follow redirects (see InferenceServer), for the same reason.
/// </remarks>
public sealed class RegistryUploadClient(HttpClient http)
{
    public const int MaxLocationLength = 4096;

    /// <summary>How long a best-effort cancel of an abandoned upload session may take.</summary>
    private static readonly TimeSpan CancelTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Whether the repository already has the blob (HEAD answered 2xx) or not (404).</summary>
    public async Task<bool> HasBlobAsync(ModelName name, bool insecure, string digest, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(RegistryClient.Base(name, insecure), $"blobs/{digest}"));
        using var response = await SendAsync(request, name, ct);
        if (response.IsSuccessStatusCode) return true;
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        throw await FailureAsync(response, name, $"check blob {digest}", ct);
    }

    /// <summary>Opens an upload session; returns where its first chunk goes.</summary>
    public async Task<Uri> StartUploadAsync(ModelName name, bool insecure, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(RegistryClient.Base(name, insecure), "blobs/uploads/"));
        using var response = await SendAsync(request, name, ct);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, name, "start upload", ct);
        return UploadLocation(response, request.RequestUri!, name);
    }

    /// <summary>
    /// Sends bytes [<paramref name="offset"/>, offset + <paramref name="length"/>) of <paramref name="file"/> to the
    /// session at <paramref name="upload"/>; returns where the next chunk (or the commit) goes.
    /// </summary>
    public async Task<Uri> SendChunkAsync(ModelName name, Uri upload, Stream file, long offset, long length, Action<long> sent, CancellationToken ct)
    {
        long end = offset + length - 1;
        using var request = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = new FileSectionContent(file, offset, length, sent) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        // The distribution spec's form ("0-1023"), not HTTP's "bytes 0-1023/*" that ContentRangeHeaderValue writes.
        request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{end}");
        using var response = await SendAsync(request, name, ct);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, name, $"upload bytes {offset}-{end}", ct);
        // A registry that reports what it holds must hold exactly what was sent so far.
        if (response.Headers.TryGetValues("Range", out var ranges) && ranges.FirstOrDefault() is { } range && range != $"0-{end}")
            throw new RegistryException($"registry {name.Host} acknowledged bytes '{Echo.Bounded(range)}' after bytes 0-{end} were sent", HttpStatusCode.BadGateway);
        return UploadLocation(response, upload, name);
    }

    /// <summary>Commits the session's bytes as the blob <paramref name="digest"/> (the registry checks the digest).</summary>
    public async Task FinishUploadAsync(ModelName name, Uri upload, string digest, CancellationToken ct)
    {
        var target = new UriBuilder(upload);
        var query = target.Query.TrimStart('?');
        target.Query = (query.Length > 0 ? query + "&" : "") + "digest=" + Uri.EscapeDataString(digest);
        using var request = new HttpRequestMessage(HttpMethod.Put, target.Uri) { Content = new ByteArrayContent([]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendAsync(request, name, ct);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, name, $"commit blob {digest}", ct);
    }

    /// <summary>Tells the registry to drop an abandoned session (best effort: a failure here changes nothing locally).</summary>
    public async Task CancelUploadAsync(Uri upload)
    {
        using var timeout = new CancellationTokenSource(CancelTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, upload);
            using var response = await http.SendAsync(request, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            // The registry expires sessions nobody finishes.
        }
    }

    /// <summary>Puts the manifest under the name's tag; every blob it lists must be in the repository by now.</summary>
    public async Task PutManifestAsync(ModelName name, bool insecure, byte[] manifest, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(RegistryClient.Base(name, insecure), $"manifests/{name.Tag}"))
        {
            Content = new ByteArrayContent(manifest),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.Manifest);
        using var response = await SendAsync(request, name, ct);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, name, "manifest", ct);
    }

    /// <summary>The session address the registry gave (Location, relative or absolute), checked to stay on the registry's own address.</summary>
    private static Uri UploadLocation(HttpResponseMessage response, Uri requestUri, ModelName name)
    {
        var location = response.Headers.Location
            ?? throw new RegistryException($"registry {name.Host} did not say where to upload (no Location header)", HttpStatusCode.BadGateway);
        var absolute = location.IsAbsoluteUri ? location : new Uri(requestUri, location);
        if (absolute.OriginalString.Length > MaxLocationLength)
            throw new RegistryException($"registry {name.Host} sent an upload location longer than {MaxLocationLength} characters", HttpStatusCode.BadGateway);
        bool sameOrigin = Uri.Compare(absolute, requestUri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
        if (!sameOrigin || absolute.UserInfo.Length > 0)
            throw new RegistryException(
                $"registry {name.Host} sent an upload location on another address ({Echo.Bounded(absolute.GetLeftPart(UriPartial.Authority))}); uploads stay on the registry's own scheme, host and port",
                HttpStatusCode.BadGateway);
        return absolute;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, ModelName name, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException($"could not reach registry {name.Host}: {ex.Message}", HttpStatusCode.BadGateway);
        }
    }

    /// <summary>What the client is told when the registry refuses a step: its status and its own message.</summary>
    private static async Task<RegistryException> FailureAsync(HttpResponseMessage response, ModelName name, string step, CancellationToken ct)
    {
        var detail = await RegistryErrorText.ReadAsync(response, ct);
        var code = (int)response.StatusCode;
        var said = detail is null ? "" : ": " + detail;
        return response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? new RegistryException($"push {step}: registry {name.Host} refused access ({code}){said}; pushing to registries that need credentials is not supported", HttpStatusCode.Unauthorized)
            : new RegistryException($"push {step}: registry {name.Host} answered {code}{said}", HttpStatusCode.BadGateway);
    }
}
