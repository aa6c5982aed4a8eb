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
/// with switches to corrupt a blob or cut a transfer short, and a log of blob requests.
/// </summary>
public sealed class FakeRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, byte[]> _blobs = new();
    private readonly Dictionary<string, string> _manifests = new();

    public FakeRegistry(byte[] gguf)
    {
        Add("stories", gguf);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/v2/library/{model}/manifests/{tag}", (string model, string tag) =>
            _manifests.TryGetValue($"{model}:{tag}", out var m) ? Results.Text(m, "application/vnd.docker.distribution.manifest.v2+json") : Results.NotFound());
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
            http.Response.ContentLength = data.Length - from;
            if (CutNextAfter is { } cut && data.Length - from > cut)
            {
                CutNextAfter = null;
                await http.Response.Body.WriteAsync(data.AsMemory((int)from, cut));
                await http.Response.Body.FlushAsync();
                http.Abort(); // the connection drops mid-blob
                return;
            }
            await http.Response.Body.WriteAsync(data.AsMemory((int)from));
        });
    }

    public ConcurrentQueue<(string Digest, string Range)> BlobRequests { get; } = new();
    public bool CorruptNext { get; set; }
    /// <summary>The next blob longer than this is cut off after this many bytes.</summary>
    public int? CutNextAfter { get; set; }
    public string Host { get; private set; } = "";

    public async Task StartAsync()
    {
        await _app.StartAsync();
        Host = new Uri(_app.Urls.First()).Authority;
    }

    /// <summary>Publishes a GGUF as library/{model}:latest with a config blob, as Ollama's registry does.</summary>
    public void Add(string model, byte[] gguf)
    {
        string Digest(byte[] b) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(b));
        var config = Encoding.UTF8.GetBytes("{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"model_families\":[\"llama\"],\"model_type\":\"293K\",\"file_type\":\"F32\"}");
        _blobs[Digest(gguf)] = gguf;
        _blobs[Digest(config)] = config;
        _manifests[$"{model}:latest"] = JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.docker.distribution.manifest.v2+json",
            config = new { mediaType = "application/vnd.docker.container.image.v1+json", digest = Digest(config), size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.ollama.image.model", digest = Digest(gguf), size = gguf.Length } },
        });
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
