using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Engine.Store;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Inference.Tests.Push;

/// <summary>
/// /api/push end to end: a model created from stories260K (with template, system and params layers) is pushed to
/// a registry the test serves on 127.0.0.1 (insecure: plain HTTP) in chunks of 300,000 bytes, pushed again (the
/// registry has every blob: nothing is uploaded), deleted locally and pulled back bit for bit.
/// </summary>
public sealed class PushTests(PushServer server) : IClassFixture<PushServer>
{
    private const long Chunk = PushServer.ChunkBytes;

    private static async Task<UploadRegistry> RegistryAsync(Action<UploadRegistry>? setup = null)
    {
        var registry = new UploadRegistry();
        setup?.Invoke(registry);
        await registry.StartAsync();
        return registry;
    }

    private async Task CreateAsync(string name)
    {
        var (status, body) = await server.PostAsync("/api/create", new
        {
            model = name, from = "stories", template = "{{ .System }} {{ .Prompt }}", system = $"Tell a story for {name}.", // a system blob of its own
            parameters = new { temperature = 0.5, stop = new[] { "The end" } }, stream = false,
        });
        Assert.True(status == 200, body?.ToJsonString());
    }

    private ModelManifest Manifest(string name) => server.Get<ModelStore>().GetManifest(ModelName.Parse(name))!;

    private string BlobFile(string digest) => Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + digest["sha256:".Length..]);

    private static string Sha256(string path) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string Line(JsonNode l) => $"{l["status"]} {l["digest"]} {l["total"]} {l["completed"]}".TrimEnd();

    private async Task<bool> Listed(string name) =>
        (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Any(m => (string)m!["name"]! == name);

    [Fact]
    public async Task A_model_is_pushed_once_in_chunks_manifest_last_and_pulls_back_bit_identical()
    {
        await using var registry = await RegistryAsync();
        var name = $"{registry.Host}/tests/pushed:v1";
        await CreateAsync(name);
        var manifest = Manifest(name);
        var blobs = manifest.Layers.Append(manifest.Config).ToList(); // Ollama's order: layers, then the config
        Assert.Equal(5, blobs.Count); // model, template, system, params, config
        var model = manifest.Find(MediaTypes.Model)!;
        Assert.True(model.Size > 3 * Chunk);

        var lines = await server.StreamAsync("/api/push", new { model = name, insecure = true });

        // Progress, exactly: each blob from 0 to its size, one event per acknowledged chunk.
        var expected = new List<string> { "retrieving manifest" };
        foreach (var blob in blobs)
        {
            var status = "pushing " + blob.Digest["sha256:".Length..][..12];
            expected.Add($"{status} {blob.Digest} {blob.Size} 0");
            for (long done = Math.Min(Chunk, blob.Size); ; done = Math.Min(done + Chunk, blob.Size))
            {
                expected.Add($"{status} {blob.Digest} {blob.Size} {done}");
                if (done == blob.Size) break;
            }
        }
        expected.AddRange(["pushing manifest", "success"]);
        Assert.Equal(expected, lines.Select(Line).ToList());

        // The registry got each blob once, byte for byte, the model in contiguous chunks, and the manifest last.
        foreach (var blob in blobs)
        {
            Assert.Equal(1, registry.Uploads[blob.Digest]);
            Assert.Equal(await File.ReadAllBytesAsync(BlobFile(blob.Digest)), registry.Blobs[blob.Digest]);
        }
        var log = registry.Log.ToList();
        Assert.Equal(blobs.Select(b => $"HEAD {b.Digest}"), log.Where(e => e.StartsWith("HEAD ")));
        Assert.Equal(5, log.Count(e => e.StartsWith("POST ")));
        long last = model.Size - 1;
        Assert.Equal(["0-299999", "300000-599999", "600000-899999", $"900000-{last}"],
            log.Where(e => e.StartsWith($"PATCH session{blobs.IndexOf(model) + 1} ")).Select(e => e.Split(' ')[2]));
        Assert.Equal("PUT manifest tests/pushed:v1", log[^1]);
        Assert.Single(log, e => e.StartsWith("PUT manifest"));
        var pushed = JsonNode.Parse(registry.Manifests["tests/pushed:v1"])!;
        Assert.Equal(blobs.Select(b => b.Digest), pushed["layers"]!.AsArray().Append(pushed["config"]).Select(l => (string)l!["digest"]!));

        // Pushing again uploads nothing: every HEAD finds its blob.
        int before = log.Count;
        var (status2, done2) = await server.PostAsync("/api/push", new { model = name, insecure = true, stream = false });
        Assert.Equal(200, status2);
        Assert.Equal("""{"status":"success"}""", done2!.ToJsonString());
        Assert.Equal([.. blobs.Select(b => $"HEAD {b.Digest}"), "PUT manifest tests/pushed:v1"], registry.Log.Skip(before));
        Assert.All(blobs, b => Assert.Equal(1, registry.Uploads[b.Digest]));

        // Deleted here, pulled back from the registry: the same blobs, bit for bit, and the model generates.
        var system = manifest.Find(MediaTypes.System)!;
        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = TestServer.JsonContent(new { model = name }) })
        using (var deleted = await server.Client.SendAsync(delete))
            Assert.Equal(200, (int)deleted.StatusCode);
        Assert.False(File.Exists(BlobFile(system.Digest)));
        Assert.False(await Listed(name));

        var pulled = await server.StreamAsync("/api/pull", new { model = name, insecure = true });
        Assert.Equal("success", (string)pulled[^1]["status"]!);
        var back = Manifest(name);
        Assert.Equal(blobs.Select(b => (b.MediaType, b.Digest, b.Size)), back.Layers.Append(back.Config).Select(b => (b.MediaType, b.Digest, b.Size)));
        Assert.All(blobs, b => Assert.Equal(b.Digest, Sha256(BlobFile(b.Digest))));
        var show = (await server.PostAsync("/api/show", new { model = name })).Body!;
        Assert.Equal("{{ .System }} {{ .Prompt }}", (string)show["template"]!);
        var (status3, r) = await server.PostAsync("/api/generate", new { model = name, prompt = "Once", stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, status3);
        Assert.Equal(3, (int)r!["eval_count"]!);
    }

    [Fact]
    public async Task Bad_requests_and_registry_refusals_are_clear_errors()
    {
        var (status, r) = await server.PostAsync("/api/push", new { insecure = true });
        Assert.Equal(400, status);
        Assert.Equal("model is required", (string)r!["error"]!);

        (status, r) = await server.PostAsync("/api/push", new { model = "127.0.0.1:9/tests/none:v1", insecure = true });
        Assert.Equal(404, status);
        Assert.Equal("model '127.0.0.1:9/tests/none:v1' not found", (string)r!["error"]!);

        (status, r) = await server.PostAsync("/api/push", new { model = "bad name!", insecure = true });
        Assert.Equal(400, status);
        Assert.StartsWith("invalid model name", (string)r!["error"]!);

        // Nothing listens on port 9.
        await CreateAsync("127.0.0.1:9/tests/x:v1");
        (status, r) = await server.PostAsync("/api/push", new { model = "127.0.0.1:9/tests/x:v1", insecure = true });
        Assert.Equal(502, status);
        Assert.StartsWith("could not reach registry 127.0.0.1:9", (string)r!["error"]!);

        // Without insecure the registry is asked over https, which a plain-HTTP registry cannot answer.
        await using var plain = await RegistryAsync();
        await CreateAsync($"{plain.Host}/tests/x:v1");
        (status, r) = await server.PostAsync("/api/push", new { model = $"{plain.Host}/tests/x:v1" });
        Assert.Equal(502, status);
        Assert.StartsWith($"could not reach registry {plain.Host}", (string)r!["error"]!);
        Assert.Empty(plain.Log);

        // A registry that wants credentials: 401 (this server sends none, as its pulls do; a HEAD answer has no body to quote).
        await using var locked = await RegistryAsync(g => g.RequireCredentials = true);
        await CreateAsync($"{locked.Host}/tests/x:v1");
        (status, r) = await server.PostAsync("/api/push", new { model = $"{locked.Host}/tests/x:v1", insecure = true });
        Assert.Equal(401, status);
        Assert.Matches($"^push check blob sha256:[0-9a-f]{{64}}: registry {locked.Host} refused access \\(401\\); " +
            "pushing to registries that need credentials is not supported$", (string)r!["error"]!);

        // Bytes that arrive damaged: the registry's digest check refuses the commit, the stream ends with its message,
        // the upload session is dropped and no manifest is pushed.
        await using var lossy = await RegistryAsync(g => g.CorruptUploads = true);
        var lossyName = $"{lossy.Host}/tests/x:v1";
        await CreateAsync(lossyName);
        var lines = await server.StreamAsync("/api/push", new { model = lossyName, insecure = true });
        var model = Manifest(lossyName).Find(MediaTypes.Model)!;
        Assert.Equal(["retrieving manifest", $"pushing {model.Digest[7..19]} {model.Digest} {model.Size} 0"], lines.Take(2).Select(Line));
        Assert.Equal($"push commit blob {model.Digest}: registry {lossy.Host} answered 400: DIGEST_INVALID: provided digest did not match uploaded content",
            (string)lines[^1]["error"]!);
        Assert.Equal(["POST session1", "PATCH session1", "PATCH session1", "PATCH session1", "PATCH session1", $"PUT session1 {model.Digest}", "DELETE session1"],
            lossy.Log.Skip(1).Select(e => e.StartsWith("PATCH") ? "PATCH session1" : e));
        Assert.Empty(lossy.Manifests);
        (status, r) = await server.PostAsync("/api/push", new { model = lossyName, insecure = true, stream = false });
        Assert.Equal(502, status);
        Assert.StartsWith($"push commit blob {model.Digest}: registry {lossy.Host} answered 400: DIGEST_INVALID", (string)r!["error"]!);

        // An upload session placed on another address is refused before a byte is sent there.
        await using var elsewhere = await RegistryAsync(g => g.ForeignLocation = "http://127.0.0.1:9/v2/tests/x/blobs/uploads/1");
        await CreateAsync($"{elsewhere.Host}/tests/x:v1");
        (status, r) = await server.PostAsync("/api/push", new { model = $"{elsewhere.Host}/tests/x:v1", insecure = true });
        Assert.Equal(502, status);
        Assert.Equal($"registry {elsewhere.Host} sent an upload location on another address (http://127.0.0.1:9); uploads stay on the registry's own scheme, host and port",
            (string)r!["error"]!);
        Assert.DoesNotContain(elsewhere.Log, e => e.StartsWith("PATCH"));
    }

    /// <summary>Pushes <paramref name="model"/> to a registry that answers <paramref name="method"/> requests its own way; returns the status, the error and the registry's log.</summary>
    private async Task<(int Status, string Error, List<string> Log)> PushToHostileAsync(string model, string method, Func<HttpContext, Task> answer)
    {
        await using var registry = await RegistryAsync(g => g.Intercept = async http =>
        {
            if (http.Request.Method != method) return false;
            await answer(http);
            return true;
        });
        var name = $"{registry.Host}/tests/{model}:v1";
        await CreateAsync(name);
        var (status, r) = await server.PostAsync("/api/push", new { model = name, insecure = true, stream = false });
        return (status, ((string)r!["error"]!).Replace(registry.Host, "HOST"), registry.Log.ToList());
    }

    [Fact]
    public async Task What_a_registry_answers_is_bounded()
    {
        // A redirect is not followed: model bytes go only to the address the name gives.
        var (status, error, log) = await PushToHostileAsync("redirect", "HEAD", http =>
        {
            http.Response.StatusCode = 307;
            http.Response.Headers.Location = "http://127.0.0.1:9/elsewhere";
            return Task.CompletedTask;
        });
        Assert.Equal(502, status);
        Assert.Matches("^push check blob sha256:[0-9a-f]{64}: registry HOST answered 307$", error);

        // An upload session without a Location, or with one longer than the bound.
        (status, error, _) = await PushToHostileAsync("nolocation", "POST", http =>
        {
            http.Response.StatusCode = 202;
            return Task.CompletedTask;
        });
        Assert.Equal(502, status);
        Assert.Equal("registry HOST did not say where to upload (no Location header)", error);
        (status, error, _) = await PushToHostileAsync("longlocation", "POST", http =>
        {
            http.Response.StatusCode = 202;
            http.Response.Headers.Location = "/v2/tests/longlocation/blobs/uploads/" + new string('a', 5000);
            return Task.CompletedTask;
        });
        Assert.Equal(502, status);
        Assert.Equal("registry HOST sent an upload location longer than 4096 characters", error);

        // A chunk acknowledged short: the registry does not hold what was sent; the session is dropped.
        (status, error, log) = await PushToHostileAsync("shortrange", "PATCH", http =>
        {
            http.Response.StatusCode = 202;
            http.Response.Headers.Location = http.Request.Path.Value;
            http.Response.Headers["Range"] = "0-10";
            return Task.CompletedTask;
        });
        Assert.Equal(502, status);
        Assert.Equal("registry HOST acknowledged bytes '0-10' after bytes 0-299999 were sent", error);
        Assert.Equal("DELETE session1", log[^1]);

        // A megabyte of error text: the message keeps a bounded part of it, on one line.
        (status, error, _) = await PushToHostileAsync("hugeerror", "PUT", async http =>
        {
            if (!http.Request.Path.Value!.Contains("/manifests/")) { http.Response.StatusCode = 201; return; }
            http.Response.StatusCode = 500;
            await http.Response.WriteAsync("<html>\n" + new string('x', 1 << 20));
        });
        Assert.Equal(502, status);
        Assert.Equal("push manifest: registry HOST answered 500: <html> " + new string('x', Echo.MaxMessageLength - 7) + "...", error);
    }

    [Fact]
    public async Task A_cancelled_push_leaves_the_local_model_intact_and_drops_the_upload()
    {
        await using var registry = await RegistryAsync(g => g.StallUploads = true);
        var name = $"{registry.Host}/tests/cancelled:v1";
        await CreateAsync(name);
        var blobFiles = Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs")).Order().ToList();
        var manifestFile = server.Get<ModelStore>().ManifestFile(ModelName.Parse(name))!;
        var manifestBytes = await File.ReadAllBytesAsync(manifestFile);

        using (var cts = new CancellationTokenSource())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/push") { Content = TestServer.JsonContent(new { model = name, insecure = true }) };
            using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.Equal(200, (int)response.StatusCode);
            await registry.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(60));
            cts.Cancel(); // the client goes away mid-upload
        }

        // The server tells the registry to drop the session, and pushes no manifest.
        for (var wait = 0; wait < 100 && !registry.Log.Contains("DELETE session1"); wait++) await Task.Delay(100);
        Assert.Contains("DELETE session1", registry.Log);
        Assert.Empty(registry.Manifests);
        Assert.Empty(registry.Blobs);

        // Locally nothing changed: the same manifest and blob files, the model listed and generating.
        Assert.Equal(manifestBytes, await File.ReadAllBytesAsync(manifestFile));
        Assert.Equal(blobFiles, Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs")).Order());
        Assert.True(await Listed(name));
        var (status, r) = await server.PostAsync("/api/generate", new { model = name, prompt = "Once", stream = false, options = new { num_predict = 2 } });
        Assert.Equal(200, status);
        Assert.Equal(2, (int)r!["eval_count"]!);

        // The next push goes through.
        registry.StallUploads = false;
        (status, r) = await server.PostAsync("/api/push", new { model = name, insecure = true, stream = false });
        Assert.Equal(200, status);
        Assert.Equal("success", (string)r!["status"]!);
        Assert.True(registry.Manifests.ContainsKey("tests/cancelled:v1"));
    }

    [Fact]
    public async Task The_ollama_js_client_pushes_unchanged()
    {
        await using var registry = await RegistryAsync();
        var name = $"{registry.Host}/tests/js:v1";
        await CreateAsync(name);
        var manifest = Manifest(name);
        var r = await CompatClient.RunAsync("ollama-push.mjs", "ollama",
            new Dictionary<string, string> { ["OLLAMA_URL"] = server.BaseUrl, ["MODEL"] = name });

        // Streamed: Ollama's statuses, every blob pushed to its full size, the manifest last.
        var streamed = r["streamed"]!.AsArray();
        Assert.Equal("retrieving manifest", (string)streamed[0]!["status"]!);
        Assert.Equal(["pushing manifest", "success"], streamed.TakeLast(2).Select(p => (string)p!["status"]!));
        foreach (var blob in manifest.AllBlobs)
            Assert.Contains(streamed, p => (string?)p!["digest"] == blob.Digest && (long?)p["completed"] == blob.Size && (long?)p["total"] == blob.Size);
        Assert.All(manifest.AllBlobs, b => Assert.Equal(1, registry.Uploads[b.Digest]));
        Assert.True(registry.Manifests.ContainsKey("tests/js:v1"));

        // Not streamed: one success object (the second push found every blob there).
        Assert.Equal("""{"status":"success"}""", r["single"]!.ToJsonString());
        Assert.Equal(2, registry.Log.Count(e => e.StartsWith("PUT manifest")));

        Assert.Equal("model '127.0.0.1:9/tests/no-such-model:v1' not found", (string)r["missingError"]!["message"]!);
        Assert.Equal(404, (int)r["missingError"]!["status"]!);
    }
}

public sealed class PushServer : TestServer
{
    /// <summary>Small enough that the 1.2 MB stories260K model goes in four chunks.</summary>
    public const long ChunkBytes = 300_000;

    protected override IEnumerable<string> Settings => [$"--Inference:PushChunkBytes={ChunkBytes}"];
}
