using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Pull;

/// <summary>/api/pull end to end against a registry served by the test on 127.0.0.1 (insecure: plain HTTP).</summary>
public sealed class PullTests(PullServer server) : IClassFixture<PullServer>
{
    private static async Task<FakeRegistry> RegistryAsync(byte salt, Action<FakeRegistry>? setup = null)
    {
        var bytes = await File.ReadAllBytesAsync(TestModels.Stories260K);
        bytes[^1] ^= salt; // each test gets a blob of its own, new to the server's store
        var registry = new FakeRegistry(bytes);
        setup?.Invoke(registry);
        await registry.StartAsync();
        return registry;
    }

    private async Task<bool> Listed(string name) =>
        (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Any(m => (string)m!["name"]! == name);

    [Fact]
    public async Task A_model_is_pulled_with_progress_verified_and_served()
    {
        await using var registry = await RegistryAsync(0x31);
        var name = $"{registry.Host}/library/stories:latest";
        var lines = await server.StreamAsync("/api/pull", new { model = name, insecure = true });
        var statuses = lines.Select(l => (string)l["status"]!).ToList();
        Assert.Equal("pulling manifest", statuses[0]);
        Assert.Equal(["verifying sha256 digest", "writing manifest", "success"], statuses[^3..]);
        var model = lines.Last(l => ((string)l["status"]!).StartsWith("pulling ") && l["total"] is not null && (long)l["total"]! > 1_000_000);
        Assert.Equal((long)model["total"]!, (long)model["completed"]!);
        Assert.Equal("pulling " + ((string)model["digest"]!)["sha256:".Length..][..12], (string)model["status"]!);

        var (status, r) = await server.PostAsync("/api/generate", new { model = name, prompt = "Once", stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, status);
        Assert.Equal(3, (int)r!["eval_count"]!);

        // Pulling again downloads nothing: every blob is already in the store.
        int before = registry.BlobRequests.Count;
        var (again, done) = await server.PostAsync("/api/pull", new { model = name, insecure = true, stream = false });
        Assert.Equal(200, again);
        Assert.Equal("success", (string)done!["status"]!);
        Assert.Equal(before, registry.BlobRequests.Count);
    }

    [Fact]
    public async Task A_corrupt_blob_leaves_no_model_behind()
    {
        await using var registry = await RegistryAsync(0x32, r => r.CorruptNext = true);
        var name = $"{registry.Host}/library/stories:latest";
        var lines = await server.StreamAsync("/api/pull", new { model = name, insecure = true });
        Assert.StartsWith("digest mismatch for sha256:", (string)lines[^1]["error"]!);
        Assert.False(await Listed(name));
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(server.ModelsDirectory, "manifests"), "*", SearchOption.AllDirectories),
            f => f.Contains(registry.Host));
        Assert.Empty(Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs"), "*-partial"));
    }

    [Fact]
    public async Task An_interrupted_transfer_resumes_with_a_range_request()
    {
        await using var registry = await RegistryAsync(0x33, r => r.CutNextAfter = 400_000);
        var name = $"{registry.Host}/library/stories:latest";
        var first = await server.StreamAsync("/api/pull", new { model = name, insecure = true });
        Assert.Contains("interrupted", (string)first[^1]["error"]!);
        Assert.False(await Listed(name));

        var second = await server.StreamAsync("/api/pull", new { model = name, insecure = true });
        Assert.Equal("success", (string)second[^1]["status"]!);
        // The second request for the model blob asked only for what was missing.
        Assert.Contains(registry.BlobRequests, r => r.Range.StartsWith("bytes=") && r.Range != "bytes=0-");
        Assert.Equal(200, (await server.PostAsync("/api/generate", new { model = name, prompt = "Once", stream = false, options = new { num_predict = 2 } })).Status);
    }

    private string BlobFile(string digest) => Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + digest["sha256:".Length..]);

    private static string Sha256(string path) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static async Task<byte[]> SaltedAsync(byte salt)
    {
        var bytes = await File.ReadAllBytesAsync(TestModels.Stories260K);
        bytes[^1] ^= salt;
        return bytes;
    }

    [Fact]
    public async Task Two_concurrent_pulls_of_one_model_share_one_download_and_both_succeed()
    {
        await using var registry = await RegistryAsync(0x35, r => r.HoldNextAfter = 300_000);
        var gguf = FakeRegistry.Digest(await SaltedAsync(0x35));
        var name = $"{registry.Host}/library/stories:latest";

        // The first pull's model download is held after 300 KB; the second starts meanwhile.
        var first = server.StreamAsync("/api/pull", new { model = name, insecure = true });
        await registry.Held.Task.WaitAsync(TimeSpan.FromSeconds(60));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/pull") { Content = TestServer.JsonContent(new { model = name, insecure = true }) };
        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var second = new List<JsonNode>();
        // Read until the second pull reports the first one's progress on the model blob (all it could receive
        // while held): it waits on that download instead of starting its own.
        while (await reader.ReadLineAsync() is { } line)
        {
            second.Add(JsonNode.Parse(line)!);
            Assert.Null(second[^1]["error"]);
            if ((string?)second[^1]["digest"] == gguf && (long?)second[^1]["completed"] == 300_000) break;
        }
        Assert.Equal(gguf, (string)second[^1]["digest"]!);
        registry.Release.TrySetResult();
        while (await reader.ReadLineAsync() is { } line) second.Add(JsonNode.Parse(line)!);

        Assert.Equal("success", (string)(await first)[^1]["status"]!);
        Assert.Equal("success", (string)second[^1]["status"]!);
        var model = second.Last(l => (string?)l["digest"] == gguf);
        Assert.Equal((long)model["total"]!, (long)model["completed"]!);
        // Each blob was asked for once at most (the config blob other tests stored already is not asked for),
        // the model's exactly once, and what is stored hashes to its digest.
        var requests = registry.BlobRequests.Select(r => r.Digest).ToList();
        Assert.Equal(requests.Distinct().Count(), requests.Count);
        Assert.Single(requests, gguf);
        Assert.Equal(gguf, Sha256(BlobFile(gguf)));
        Assert.True(await Listed(name));
        Assert.Empty(Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs"), "*-partial"));
    }

    [Fact]
    public async Task A_pull_resumes_after_a_partial_file_and_stores_the_right_digest()
    {
        var bytes = await SaltedAsync(0x36);
        await using var registry = await RegistryAsync(0x36);
        var gguf = FakeRegistry.Digest(bytes);
        Directory.CreateDirectory(Path.Combine(server.ModelsDirectory, "blobs"));
        await File.WriteAllBytesAsync(BlobFile(gguf) + "-partial", bytes[..500_000]);

        var name = $"{registry.Host}/library/stories:latest";
        var lines = await server.StreamAsync("/api/pull", new { model = name, insecure = true });
        Assert.Equal("success", (string)lines[^1]["status"]!);
        Assert.Contains((gguf, "bytes=500000-"), registry.BlobRequests);
        Assert.Equal(gguf, Sha256(BlobFile(gguf)));
        Assert.False(File.Exists(BlobFile(gguf) + "-partial"));
        Assert.Equal(200, (await server.PostAsync("/api/generate", new { model = name, prompt = "Once", stream = false, options = new { num_predict = 2 } })).Status);
    }

    [Fact]
    public async Task A_corrupted_partial_file_is_a_digest_mismatch_and_nothing_is_stored()
    {
        var bytes = await SaltedAsync(0x37);
        await using var registry = await RegistryAsync(0x37);
        var gguf = FakeRegistry.Digest(bytes);
        var prefix = bytes[..500_000];
        prefix[1000] ^= 0x55; // a damaged byte inside what an earlier pull left
        Directory.CreateDirectory(Path.Combine(server.ModelsDirectory, "blobs"));
        await File.WriteAllBytesAsync(BlobFile(gguf) + "-partial", prefix);

        var name = $"{registry.Host}/library/stories:latest";
        var lines = await server.StreamAsync("/api/pull", new { model = name, insecure = true });
        Assert.Matches($"^digest mismatch for {gguf}: the downloaded content hashes to sha256:[0-9a-f]{{64}}$", (string)lines[^1]["error"]!);
        Assert.Contains((gguf, "bytes=500000-"), registry.BlobRequests); // only the rest was fetched, then the whole was checked
        Assert.False(File.Exists(BlobFile(gguf)));
        Assert.False(File.Exists(BlobFile(gguf) + "-partial"));
        Assert.False(await Listed(name));

        // The next pull starts from nothing and succeeds.
        lines = await server.StreamAsync("/api/pull", new { model = name, insecure = true });
        Assert.Equal("success", (string)lines[^1]["status"]!);
        Assert.Equal(gguf, Sha256(BlobFile(gguf)));
    }

    [Fact]
    public async Task Unknown_models_and_unreachable_registries_are_clear_errors()
    {
        await using var registry = await RegistryAsync(0x34);
        var (status, r) = await server.PostAsync("/api/pull", new { model = $"{registry.Host}/library/nothing:latest", insecure = true });
        Assert.Equal(404, status);
        Assert.Equal("pull model manifest: file does not exist", (string)r!["error"]!);

        (status, r) = await server.PostAsync("/api/pull", new { model = "127.0.0.1:9/library/x:latest", insecure = true });
        Assert.Equal(502, status);
        Assert.StartsWith("could not reach registry 127.0.0.1:9", (string)r!["error"]!);
    }
}

public sealed class PullServer : TestServer;
