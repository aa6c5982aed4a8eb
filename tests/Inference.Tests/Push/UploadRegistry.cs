using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Inference.Tests.Push;

/// <summary>
/// A small OCI distribution registry on 127.0.0.1, in memory, that accepts pushes the way the spec says
/// (HEAD blob, POST upload session, PATCH chunks with Content-Range, PUT ?digest= checked against the bytes,
/// PUT manifest whose blobs must all be there) and serves what it holds to pulls. Every request is logged in
/// order; switches make it stall an upload, refuse credentials-less clients, corrupt what it receives, or
/// send an upload session to another address.
/// </summary>
public sealed class UploadRegistry : IAsyncDisposable
{
    private const string ManifestType = "application/vnd.docker.distribution.manifest.v2+json";
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, MemoryStream> _sessions = new();
    private int _nextSession;

    public UploadRegistry()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use(async (http, next) =>
        {
            if (Intercept is { } intercept && await intercept(http)) { Log.Enqueue($"{http.Request.Method} {http.Request.Path} intercepted"); return; }
            if (!RequireCredentials) { await next(http); return; }
            Log.Enqueue($"{http.Request.Method} {http.Request.Path} refused");
            http.Response.StatusCode = 401;
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"http://127.0.0.1:9/token\",service=\"test\"";
            await Error(401, "UNAUTHORIZED", "authentication required").ExecuteAsync(http);
        });
        _app.MapMethods("/v2/{ns}/{repo}/blobs/{digest}", ["HEAD"], (string digest, HttpContext http) =>
        {
            Log.Enqueue($"HEAD {digest}");
            if (!Blobs.TryGetValue(digest, out var data)) return Results.NotFound();
            http.Response.ContentLength = data.Length;
            return Results.Ok();
        });
        _app.MapGet("/v2/{ns}/{repo}/blobs/{digest}", (string digest) =>
            Blobs.TryGetValue(digest, out var data) ? Results.Bytes(data, "application/octet-stream") : Results.NotFound());
        _app.MapPost("/v2/{ns}/{repo}/blobs/uploads/", (string ns, string repo, HttpContext http) =>
        {
            var id = $"session{Interlocked.Increment(ref _nextSession)}";
            _sessions[id] = new MemoryStream();
            Log.Enqueue($"POST {id}");
            http.Response.Headers.Location = ForeignLocation ?? $"/v2/{ns}/{repo}/blobs/uploads/{id}";
            http.Response.Headers["Docker-Upload-UUID"] = id;
            return Results.StatusCode(202);
        });
        _app.MapPatch("/v2/{ns}/{repo}/blobs/uploads/{id}", async (string ns, string repo, string id, HttpContext http) =>
        {
            if (!_sessions.TryGetValue(id, out var session)) return Error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload");
            var range = http.Request.Headers.ContentRange.ToString();
            Log.Enqueue($"PATCH {id} {range}");
            if (StallUploads)
            {
                Stalled.TrySetResult();
                try { await Task.Delay(Timeout.Infinite, http.RequestAborted); } catch (OperationCanceledException) { }
                return Results.Empty;
            }
            var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            if (range != $"{session.Length}-{session.Length + body.Length - 1}") return Error(416, "BLOB_UPLOAD_INVALID", $"range {range} does not continue at {session.Length}");
            if (CorruptUploads) body.GetBuffer()[0] ^= 0xFF;
            body.WriteTo(session);
            http.Response.Headers.Location = $"/v2/{ns}/{repo}/blobs/uploads/{id}";
            http.Response.Headers["Range"] = $"0-{session.Length - 1}";
            return Results.StatusCode(202);
        });
        _app.MapPut("/v2/{ns}/{repo}/blobs/uploads/{id}", (string ns, string repo, string id, string digest, HttpContext http) =>
        {
            Log.Enqueue($"PUT {id} {digest}");
            if (!_sessions.TryRemove(id, out var session)) return Error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload");
            var data = session.ToArray();
            if (Digest(data) != digest) return Error(400, "DIGEST_INVALID", "provided digest did not match uploaded content");
            Blobs[digest] = data;
            Uploads.AddOrUpdate(digest, 1, (_, n) => n + 1);
            http.Response.Headers.Location = $"/v2/{ns}/{repo}/blobs/{digest}";
            return Results.StatusCode(201);
        });
        _app.MapDelete("/v2/{ns}/{repo}/blobs/uploads/{id}", (string id) =>
        {
            Log.Enqueue($"DELETE {id}");
            return _sessions.TryRemove(id, out _) ? Results.NoContent() : Error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload");
        });
        _app.MapPut("/v2/{ns}/{repo}/manifests/{tag}", async (string ns, string repo, string tag, HttpContext http) =>
        {
            Log.Enqueue($"PUT manifest {ns}/{repo}:{tag}");
            if (http.Request.ContentType != ManifestType) return Error(400, "MANIFEST_INVALID", $"content type {http.Request.ContentType}");
            var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            using var manifest = JsonDocument.Parse(body.ToArray());
            var digests = manifest.RootElement.GetProperty("layers").EnumerateArray().Append(manifest.RootElement.GetProperty("config"))
                .Select(l => l.GetProperty("digest").GetString()!);
            if (digests.FirstOrDefault(d => !Blobs.ContainsKey(d)) is { } missing) return Error(400, "MANIFEST_BLOB_UNKNOWN", $"blob unknown to registry: {missing}");
            Manifests[$"{ns}/{repo}:{tag}"] = body.ToArray();
            return Results.StatusCode(201);
        });
        _app.MapGet("/v2/{ns}/{repo}/manifests/{tag}", (string ns, string repo, string tag) =>
            Manifests.TryGetValue($"{ns}/{repo}:{tag}", out var bytes) ? Results.Bytes(bytes, ManifestType) : Results.NotFound());
    }

    /// <summary>Requests in arrival order: "HEAD sha256:...", "POST session1", "PATCH session1 0-99", "PUT session1 sha256:...", "DELETE session1", "PUT manifest ns/repo:tag".</summary>
    public ConcurrentQueue<string> Log { get; } = new();
    /// <summary>Committed blobs by digest.</summary>
    public ConcurrentDictionary<string, byte[]> Blobs { get; } = new();
    /// <summary>How many times each blob was committed.</summary>
    public ConcurrentDictionary<string, int> Uploads { get; } = new();
    /// <summary>Manifests by "namespace/repository:tag", as received.</summary>
    public ConcurrentDictionary<string, byte[]> Manifests { get; } = new();
    /// <summary>PATCH requests hang until the client goes away.</summary>
    public bool StallUploads { get; set; }
    /// <summary>Completed when a PATCH has stalled (see <see cref="StallUploads"/>).</summary>
    public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>The first byte of every chunk is flipped on arrival, so the commit's digest check fails.</summary>
    public bool CorruptUploads { get; set; }
    /// <summary>Every request is answered 401 with a Bearer challenge.</summary>
    public bool RequireCredentials { get; set; }
    /// <summary>When set, new upload sessions are placed at this Location.</summary>
    public string? ForeignLocation { get; set; }
    /// <summary>Answers a request its own way when it returns true (a registry that misbehaves); false lets the registry answer.</summary>
    public Func<HttpContext, Task<bool>>? Intercept { get; set; }
    public string Host { get; private set; } = "";

    public async Task StartAsync()
    {
        await _app.StartAsync();
        Host = new Uri(_app.Urls.First()).Authority;
    }

    public static string Digest(byte[] b) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(b));

    private static IResult Error(int status, string code, string message) =>
        Results.Text(JsonSerializer.Serialize(new { errors = new[] { new { code, message } } }), "application/json", statusCode: status);

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
