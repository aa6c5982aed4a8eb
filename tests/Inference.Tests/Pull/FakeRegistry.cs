using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Inference.Tests.Pull;

/// <summary>
/// An Ollama-style registry on 127.0.0.1 serving one GGUF as model "library/stories:latest",
/// with switches to corrupt a blob, cut a transfer short, stall it, send more than declared, or
/// serve any manifest text (also huge, streamed), and a log of blob requests and bytes sent.
/// </summary>
public sealed class FakeRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _manifests = new();
    private long _bytesSent;

    public FakeRegistry(byte[] gguf)
    {
        Add("stories", gguf);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/v2/library/{model}/manifests/{tag}", (string model, string tag, HttpContext http) =>
            _manifests.TryGetValue($"{model}:{tag}", out var serve) ? serve(http) : NotFound(http));
        _app.MapGet("/v2/library/{model}/blobs/{digest}", async (string digest, HttpContext http) =>
        {
            BlobRequests.Enqueue((digest, http.Request.Headers.Range.ToString()));
            if (!_blobs.TryGetValue(digest, out var data)) { http.Response.StatusCode = 404; return; }
            if (CorruptNext) { data = [.. data]; data[^1] ^= 0xFF; }
            long from = 0;
            if (http.Request.Headers.Range is { Count: > 0 } range && range.ToString().StartsWith("bytes="))
            {
                from = long.Parse(range.ToString()["bytes=".Length..].TrimEnd('-'));
                http.Response.StatusCode = 206;
            }
            long extra = data.Length > 1024 ? ExtraBytes : 0;
            // Kestrel will not send more than a Content-Length says: a registry that sends more than
            // the manifest declares either announces it or sends chunked.
            if (!OmitContentLength && (extra == 0 || DeclareExtraBytes)) http.Response.ContentLength = data.Length - from + extra;
            if (CutNextAfter is { } cut && data.Length - from > cut)
            {
                CutNextAfter = null;
                await SendAsync(http, data.AsMemory((int)from, cut));
                http.Abort(); // the connection drops mid-blob
                return;
            }
            if (HoldNextAfter is { } hold && data.Length - from > hold)
            {
                HoldNextAfter = null;
                await SendAsync(http, data.AsMemory((int)from, hold));
                Held.TrySetResult();
                await Release.Task.WaitAsync(http.RequestAborted);
                await SendAsync(http, data.AsMemory((int)from + hold));
                return;
            }
            if (StallAfter is { } stall && data.Length - from > stall)
            {
                await SendAsync(http, data.AsMemory((int)from, stall));
                Stalled.TrySetResult();
                try { await Task.Delay(Timeout.Infinite, http.RequestAborted); } catch (OperationCanceledException) { }
                return;
            }
            await SendAsync(http, data.AsMemory((int)from));
            // Paced (a pause per MiB): Kestrel completes writes to a closed connection without sending
            // them until it has signalled RequestAborted, so an unpaced loop would count bytes never sent.
            for (var chunk = new byte[1 << 20]; extra > 0; extra -= chunk.Length)
            {
                await SendAsync(http, chunk.AsMemory(0, (int)Math.Min(chunk.Length, extra)));
                await Task.Delay(1, http.RequestAborted);
            }
        });
    }

    public ConcurrentQueue<(string Digest, string Range)> BlobRequests { get; } = new();
    public bool CorruptNext { get; set; }
    /// <summary>The next blob longer than this is cut off after this many bytes.</summary>
    public int? CutNextAfter { get; set; }
    /// <summary>The next blob longer than this sends this many bytes, then waits for <see cref="Release"/> before sending the rest.</summary>
    public int? HoldNextAfter { get; set; }
    /// <summary>Completed when a transfer is held (see <see cref="HoldNextAfter"/>).</summary>
    public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Completed by the test to let a held transfer finish.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Blobs longer than this send this many bytes, then hang until the client goes away.</summary>
    public int? StallAfter { get; set; }
    /// <summary>Completed when a blob transfer has stalled (see <see cref="StallAfter"/>).</summary>
    public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Bytes sent after the content of each blob over 1 KiB (the model, not the config): a registry that sends more than its manifest declares.</summary>
    public long ExtraBytes { get; set; }
    /// <summary>Whether Content-Length announces the extra bytes (else the blob is sent chunked, with no length).</summary>
    public bool DeclareExtraBytes { get; set; }
    /// <summary>Send blobs chunked, without Content-Length.</summary>
    public bool OmitContentLength { get; set; }
    /// <summary>Bytes the registry managed to write to clients (manifests and blobs).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public string Host { get; private set; } = "";

    public async Task StartAsync()
    {
        await _app.StartAsync();
        Host = new Uri(_app.Urls.First()).Authority;
    }

    public static string Digest(byte[] b) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(b));

    /// <summary>Serves <paramref name="bytes"/> as a blob; returns its digest.</summary>
    public string AddBlob(byte[] bytes)
    {
        var digest = Digest(bytes);
        _blobs[digest] = bytes;
        return digest;
    }

    /// <summary>The config blob every model published with <see cref="Add"/> uses.</summary>
    public static byte[] Config { get; } = Encoding.UTF8.GetBytes("{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"model_families\":[\"llama\"],\"model_type\":\"293K\",\"file_type\":\"F32\"}");

    /// <summary>Publishes a GGUF as library/{model}:latest with a config blob, as Ollama's registry does.</summary>
    public void Add(string model, byte[] gguf) =>
        AddManifest(model, ManifestJson(("application/vnd.docker.container.image.v1+json", AddBlob(Config), Config.Length),
            [("application/vnd.ollama.image.model", AddBlob(gguf), gguf.Length)]));

    /// <summary>A manifest listing the given (mediaType, digest, size) config and layers.</summary>
    public static string ManifestJson((string MediaType, string Digest, long Size) config, IEnumerable<(string MediaType, string Digest, long Size)> layers) =>
        JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.docker.distribution.manifest.v2+json",
            config = new { mediaType = config.MediaType, digest = config.Digest, size = config.Size },
            layers = layers.Select(l => new { mediaType = l.MediaType, digest = l.Digest, size = l.Size }).ToArray(),
        });

    /// <summary>Serves <paramref name="json"/> (any text) as library/{model}:latest.</summary>
    public void AddManifest(string model, string json) =>
        _manifests[$"{model}:latest"] = async http =>
        {
            http.Response.ContentType = "application/vnd.docker.distribution.manifest.v2+json";
            await SendAsync(http, Encoding.UTF8.GetBytes(json));
        };

    /// <summary>
    /// Serves a manifest of <paramref name="size"/> bytes (a valid JSON prefix padded with spaces),
    /// generated while sent, with or without a Content-Length that announces it.
    /// </summary>
    public void AddHugeManifest(string model, long size, bool announce) =>
        _manifests[$"{model}:latest"] = async http =>
        {
            http.Response.ContentType = "application/vnd.docker.distribution.manifest.v2+json";
            if (announce) http.Response.ContentLength = size;
            var chunk = new byte[1 << 20];
            chunk.AsSpan().Fill((byte)' ');
            "{\"schemaVersion\":2,"u8.CopyTo(chunk);
            for (long left = size; left > 0; left -= chunk.Length)
            {
                await SendAsync(http, chunk.AsMemory(0, (int)Math.Min(chunk.Length, left)));
                chunk.AsSpan(0, 20).Fill((byte)' ');
                await Task.Delay(1, http.RequestAborted); // paced, as for blobs' extra bytes
            }
        };

    private async Task SendAsync(HttpContext http, ReadOnlyMemory<byte> data)
    {
        // Kestrel completes writes after the client has gone without sending anything: stop
        // counting (and sending) once the connection is closed.
        http.RequestAborted.ThrowIfCancellationRequested();
        await http.Response.Body.WriteAsync(data, http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
        http.RequestAborted.ThrowIfCancellationRequested();
        Interlocked.Add(ref _bytesSent, data.Length);
    }

    private static Task NotFound(HttpContext http)
    {
        http.Response.StatusCode = 404;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
