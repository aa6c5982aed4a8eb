using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Inference.Engine.Store;

namespace Inference.Engine.Registry;

/// <summary>A pull that failed with what the client should be told (status code and Ollama's wording).</summary>
public sealed class RegistryException(string message, HttpStatusCode status) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>A transfer that failed on the way (network, registry unreachable): what was downloaded is kept for the next pull to resume.</summary>
    public bool Resumable { get; init; }
}

/// <summary>
/// Ollama's registry protocol (OCI distribution): a manifest by name and tag, then blobs by digest,
/// over https (or http when the caller allows an insecure registry).
/// </summary>
public sealed class RegistryClient(HttpClient http)
{
    /// <summary>
    /// The repository's base address: https, or http when the caller allows an insecure registry. The one
    /// place that chooses the scheme, for pulls and pushes (<see cref="RegistryUploadClient"/>) alike.
    /// </summary>
    internal static Uri Base(ModelName name, bool insecure) =>
        new($"{(insecure ? "http" : "https")}://{name.Host}/v2/{name.Namespace}/{name.Model}/");

    /// <summary>
    /// The manifest of <paramref name="name"/>, checked with <see cref="LayerRules.CheckPullable"/>.
    /// A body larger than <see cref="LayerRules.MaxManifestBytes"/> is refused before it is
    /// buffered (by its Content-Length, or as soon as that many bytes arrived).
    /// </summary>
    /// <exception cref="RegistryException">400 for a manifest that is too large, not JSON or breaks the rules.</exception>
    public async Task<ModelManifest> GetManifestAsync(ModelName name, bool insecure, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Base(name, insecure), $"manifests/{name.Tag}"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.Manifest));
        using var response = await SendAsync(request, name, ct, HttpCompletionOption.ResponseHeadersRead);
        var tooLarge = new RegistryException($"pull model manifest: the registry's manifest is larger than {LayerRules.MaxManifestBytes} bytes", HttpStatusCode.BadRequest);
        if (response.Content.Headers.ContentLength > LayerRules.MaxManifestBytes) throw tooLarge;

        byte[] bytes;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            bytes = await ReadAtMostAsync(body, LayerRules.MaxManifestBytes, ct) ?? throw tooLarge;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new RegistryException($"pull model manifest: the transfer from registry {name.Host} was interrupted", HttpStatusCode.BadGateway) { Resumable = true };
        }

        try
        {
            ModelManifest? manifest;
            try
            {
                manifest = JsonSerializer.Deserialize(bytes, StoreJsonContext.Ollama.ModelManifest);
            }
            catch (JsonException ex)
            {
                throw InvalidManifestException.FromJson("the manifest", ex);
            }
            LayerRules.CheckPullable(manifest);
            return manifest!;
        }
        catch (InvalidManifestException ex)
        {
            throw new RegistryException($"pull model manifest: {ex.Message}", HttpStatusCode.BadRequest);
        }
    }

    /// <summary>The whole stream if it holds at most <paramref name="limit"/> bytes, else null (having read limit + 1).</summary>
    private static async Task<byte[]?> ReadAtMostAsync(Stream body, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit + 1 - buffer.Length)), ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit) return null;
        }
        return buffer.ToArray();
    }

    /// <summary>Opens a blob from byte <paramref name="offset"/>; Resumed says whether the registry honoured the range.</summary>
    public async Task<(HttpResponseMessage Response, bool Resumed)> OpenBlobAsync(ModelName name, bool insecure, string digest, long offset, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Base(name, insecure), $"blobs/{digest}"));
        if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
        try
        {
            var response = await SendAsync(request, name, ct, HttpCompletionOption.ResponseHeadersRead);
            return (response, offset > 0 && response.StatusCode == HttpStatusCode.PartialContent);
        }
        catch (RegistryException) when (offset > 0)
        {
            // A range the registry will not serve (e.g. 416 for a partial file that is already
            // complete but was never verified): fetch the whole blob again instead.
            return await OpenBlobAsync(name, insecure, digest, 0, ct);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, ModelName name, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException($"could not reach registry {name.Host}: {ex.Message}", HttpStatusCode.BadGateway) { Resumable = true };
        }
        if (response.IsSuccessStatusCode) return response;
        response.Dispose();
        throw response.StatusCode switch
        {
            HttpStatusCode.NotFound => new RegistryException("pull model manifest: file does not exist", HttpStatusCode.NotFound),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                new RegistryException($"pull model manifest: registry {name.Host} refused access ({(int)response.StatusCode})", HttpStatusCode.Unauthorized),
            var code => new RegistryException($"registry {name.Host} answered {(int)code}", HttpStatusCode.BadGateway),
        };
    }
}
