using System.Text;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Pull;

/// <summary>
/// /api/pull against a registry that lies: more bytes than declared, huge or malformed manifests,
/// layers that are not what their media type says. Each pull fails with a clear error in Ollama's
/// shape and leaves the models directory exactly as it was.
/// </summary>
public sealed class HostileRegistryTests(PullServer server) : IClassFixture<PullServer>
{
    private const string Model = "application/vnd.ollama.image.model";
    private const string ConfigType = "application/vnd.docker.container.image.v1+json";

    private static async Task<FakeRegistry> RegistryAsync(byte salt, Action<FakeRegistry>? setup = null)
    {
        var bytes = await File.ReadAllBytesAsync(TestModels.Stories260K);
        bytes[^1] ^= salt; // a blob of its own, new to the server's store
        var registry = new FakeRegistry(bytes);
        setup?.Invoke(registry);
        await registry.StartAsync();
        return registry;
    }

    /// <summary>Every file under the models directory, relative, sorted.</summary>
    private string[] StoreFiles() =>
        Directory.EnumerateFiles(server.ModelsDirectory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(server.ModelsDirectory, f)).Order(StringComparer.Ordinal).ToArray();

    private async Task<List<JsonNode>> PullStreamAsync(FakeRegistry registry, string model = "stories") =>
        await server.StreamAsync("/api/pull", new { model = $"{registry.Host}/library/{model}:latest", insecure = true });

    [Theory]
    [InlineData(false)] // chunked: no length announced, the body goes on past the declared size
    [InlineData(true)]  // Content-Length announces more than declared
    public async Task A_blob_larger_than_declared_is_cut_at_the_declared_size_and_discarded(bool announced)
    {
        await using var registry = await RegistryAsync(announced ? (byte)0x41 : (byte)0x42, r =>
        {
            r.ExtraBytes = 400L << 20; // the issue's reproduction sent 40 MiB more than declared; loopback socket buffers alone hold that much
            r.DeclareExtraBytes = announced;
        });
        var before = StoreFiles();
        var lines = await PullStreamAsync(registry);
        var error = (string)lines[^1]["error"]!;
        Assert.Matches(@"^the registry sent more than the \d+ bytes its manifest declares for sha256:[0-9a-f]{64}; the download was discarded$", error);
        Assert.Equal(before, StoreFiles());
        // The server stopped reading: of the 400 MiB extra, at most what socket buffers hold (here up to 32 MiB + 4 MiB) was sent.
        Assert.True(registry.BytesSent < 100L << 20, $"the registry sent {registry.BytesSent} bytes");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_huge_manifest_is_refused_before_it_is_buffered(bool announced)
    {
        await using var registry = await RegistryAsync(0x43, r => r.AddHugeManifest("huge", 300L << 20, announced));
        var before = StoreFiles();
        var (status, body) = await server.PostAsync("/api/pull", new { model = $"{registry.Host}/library/huge:latest", insecure = true });
        Assert.Equal(400, status);
        Assert.Equal("pull model manifest: the registry's manifest is larger than 4194304 bytes", (string)body!["error"]!);
        Assert.True(registry.BytesSent < 24L << 20, $"the registry sent {registry.BytesSent} of 300 MiB");
        Assert.Empty(registry.BlobRequests);
        Assert.Equal(before, StoreFiles());
    }

    public static TheoryData<string, string> MalformedManifests()
    {
        string good = "sha256:" + new string('a', 64), config = $"{{\"mediaType\":\"{ConfigType}\",\"digest\":\"{good}\",\"size\":100}}";
        string Layers(string layers) => $"{{\"schemaVersion\":2,\"config\":{config},\"layers\":{layers}}}";
        string Layer(string mediaType, string digest, string size) => $"{{\"mediaType\":\"{mediaType}\",\"digest\":\"{digest}\",\"size\":{size}}}";
        return new()
        {
            { Layers($"[{Layer(Model, good, "-5")}]"), "pull model manifest: the manifest declares a negative size (-5) in its layer 0" },
            { Layers("null"), "pull model manifest: the manifest lacks a config or layers" },
            { $"{{\"schemaVersion\":2,\"config\":{config}}}", "pull model manifest: the manifest lacks a config or layers" },
            { Layers("[]"), "pull model manifest: the manifest has 0 model layers; exactly one is needed" },
            { Layers("[null]"), "pull model manifest: the manifest has a null layer 0" },
            { "{\"schemaVersion\":2,\"layers\":[]}", "pull model manifest: the manifest is not valid manifest JSON (at $)" },
            { Layers($"[{Layer(Model, good, "\"ten\"")}]"), "pull model manifest: the manifest is not valid manifest JSON (at $.layers[0].size)" },
            { Layers($"[{Layer(Model, "sha256:../../etc/passwd", "10")}]"), "pull model manifest: the manifest has an invalid digest 'sha256:../../etc/passwd' in its layer 0: expected sha256:<64 lowercase hex digits>" },
            { Layers($"[{Layer(Model, "sha256:" + new string('a', 63), "10")}]"), $"pull model manifest: the manifest has an invalid digest 'sha256:{new string('a', 63)}' in its layer 0: expected sha256:<64 lowercase hex digits>" },
            { Layers($"[{Layer(Model, "sha256:" + new string('A', 64), "100")}]"), $"pull model manifest: the manifest has an invalid digest 'sha256:{new string('A', 64)}' in its layer 0: expected sha256:<64 lowercase hex digits>" },
            { Layers($"[{Layer(Model, good, "100")},{Layer("application/x-anything", good, "1000000000000000")}]"), "pull model manifest: the manifest has a layer of unsupported media type 'application/x-anything'" },
            { Layers($"[{Layer(Model, good, "100")},{Layer("application/vnd.ollama.image.template", good, "1000000000000")}]"), "pull model manifest: the manifest declares 1000000000000 bytes for a application/vnd.ollama.image.template layer; allowed are 0 to 4194304" },
            { Layers($"[{Layer(Model, good, "100")},{Layer(Model, good, "100")}]"), "pull model manifest: the manifest has 2 model layers; exactly one is needed" },
            { Layers($"[{Layer(Model, good, "3")}]"), "pull model manifest: the manifest declares 3 bytes for a application/vnd.ollama.image.model layer; allowed are 24 to 9223372036854775807" },
            { Layers("[" + string.Join(",", Enumerable.Repeat(Layer("application/vnd.ollama.image.license", good, "1"), 70)) + "]"), "pull model manifest: the manifest lists 70 layers; at most 64 are allowed" },
            { $"{{\"schemaVersion\":2,\"config\":{{\"mediaType\":\"{Model}\",\"digest\":\"{good}\",\"size\":100}},\"layers\":[{Layer(Model, good, "100")}]}}", $"pull model manifest: the manifest's config has media type '{Model}', not {ConfigType}" },
            { "null", "pull model manifest: the manifest is empty" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedManifests))]
    public async Task Malformed_manifests_are_a_400_and_nothing_is_downloaded(string manifest, string expected)
    {
        await using var registry = await RegistryAsync(0x44, r => r.AddManifest("bad", manifest));
        var before = StoreFiles();
        var (status, body) = await server.PostAsync("/api/pull", new { model = $"{registry.Host}/library/bad:latest", insecure = true });
        Assert.Equal(400, status);
        Assert.Equal(expected, (string)body!["error"]!);
        Assert.Empty(registry.BlobRequests);
        Assert.Equal(before, StoreFiles());
    }

    [Fact]
    public async Task A_manifest_that_is_not_json_is_a_400()
    {
        await using var registry = await RegistryAsync(0x45, r => r.AddManifest("bad", "<html>not a manifest</html>"));
        var (status, body) = await server.PostAsync("/api/pull", new { model = $"{registry.Host}/library/bad:latest", insecure = true });
        Assert.Equal(400, status);
        Assert.Equal("pull model manifest: the manifest is not valid manifest JSON (at $)", (string)body!["error"]!);
    }

    public static TheoryData<string, string, string> BadLayers() => new()
    {
        { Model, "this is not a GGUF file but it is long enough", "is not a valid GGUF file: not a GGUF file (bad magic)" },
        { "application/vnd.ollama.image.template", "{{ if .Prompt }}", "is not a valid template: " },
        { "application/vnd.ollama.image.params", "[1, 2, 3]", "(application/vnd.ollama.image.params) is not valid JSON of the expected shape (at $" },
        { "application/vnd.ollama.image.messages", "{\"role\": 1}", "(application/vnd.ollama.image.messages) is not valid JSON of the expected shape (at $" },
        { "application/vnd.ollama.image.license", "\u00ff", "" }, // valid UTF-8: accepted (see the assertion below)
    };

    [Theory]
    [MemberData(nameof(BadLayers))]
    public async Task Each_layer_is_checked_before_the_manifest_is_written(string mediaType, string content, string expected)
    {
        byte salt = (byte)(0x50 + mediaType.Length % 16 + content.Length % 7);
        await using var registry = await RegistryAsync(salt);
        var gguf = await File.ReadAllBytesAsync(TestModels.Stories260K);
        gguf[^1] ^= salt;
        var bytes = Encoding.UTF8.GetBytes(content);
        var layers = new List<(string, string, long)>();
        if (mediaType != Model) layers.Add((Model, FakeRegistry.Digest(gguf), gguf.Length));
        layers.Add((mediaType, registry.AddBlob(bytes), bytes.Length));
        registry.AddManifest("layered", FakeRegistry.ManifestJson((ConfigType, registry.AddBlob(FakeRegistry.Config), FakeRegistry.Config.Length), layers));

        var before = StoreFiles();
        var lines = await PullStreamAsync(registry, "layered");
        if (expected.Length == 0)
        {
            Assert.Equal("success", (string)lines[^1]["status"]!);
            return;
        }
        var error = (string)lines[^1]["error"]!;
        Assert.StartsWith($"blob {FakeRegistry.Digest(bytes)} ", error);
        Assert.Contains(expected, error);
        Assert.Equal(before, StoreFiles());
    }

    [Fact]
    public async Task A_blob_that_is_not_valid_utf8_text_is_refused()
    {
        await using var registry = await RegistryAsync(0x61);
        var gguf = await File.ReadAllBytesAsync(TestModels.Stories260K);
        gguf[^1] ^= 0x61;
        byte[] latin1 = [0x66, 0xFF, 0xFE, 0x20];
        registry.AddManifest("latin", FakeRegistry.ManifestJson((ConfigType, registry.AddBlob(FakeRegistry.Config), FakeRegistry.Config.Length),
            [(Model, FakeRegistry.Digest(gguf), gguf.Length), ("application/vnd.ollama.image.system", registry.AddBlob(latin1), latin1.Length)]));
        var before = StoreFiles();
        var lines = await PullStreamAsync(registry, "latin");
        Assert.Equal($"blob {FakeRegistry.Digest(latin1)} (application/vnd.ollama.image.system) is not UTF-8 text", (string)lines[^1]["error"]!);
        Assert.Equal(before, StoreFiles());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public async Task A_stored_blob_whose_size_differs_from_the_declared_one_is_refused(long delta)
    {
        // The registry lists the very GGUF the test server already holds (registered as "stories"), with a wrong size.
        var gguf = await File.ReadAllBytesAsync(TestModels.Stories260K);
        await using var registry = new FakeRegistry(gguf);
        registry.AddManifest("resized", FakeRegistry.ManifestJson((ConfigType, registry.AddBlob(FakeRegistry.Config), FakeRegistry.Config.Length),
            [(Model, FakeRegistry.Digest(gguf), gguf.Length + delta)]));
        await registry.StartAsync();
        var before = StoreFiles();
        var lines = await PullStreamAsync(registry, "resized");
        Assert.Equal($"blob {FakeRegistry.Digest(gguf)} is {gguf.Length} bytes, but the manifest declares {gguf.Length + delta}", (string)lines[^1]["error"]!);
        Assert.Equal(before, StoreFiles()); // no manifest, and the config blob it downloaded is gone again
    }

    [Fact]
    public async Task A_template_layer_error_quoting_a_huge_name_is_cut()
    {
        var text = "{{ " + new string('f', 100_000) + " }}";
        await using var registry = await RegistryAsync(0x62);
        var gguf = await File.ReadAllBytesAsync(TestModels.Stories260K);
        gguf[^1] ^= 0x62;
        var bytes = Encoding.UTF8.GetBytes(text);
        registry.AddManifest("longtemplate", FakeRegistry.ManifestJson((ConfigType, registry.AddBlob(FakeRegistry.Config), FakeRegistry.Config.Length),
            [(Model, FakeRegistry.Digest(gguf), gguf.Length), ("application/vnd.ollama.image.template", registry.AddBlob(bytes), bytes.Length)]));
        var before = StoreFiles();
        var lines = await PullStreamAsync(registry, "longtemplate");
        var error = (string)lines[^1]["error"]!;
        var prefix = $"blob {FakeRegistry.Digest(bytes)} is not a valid template: ";
        Assert.StartsWith(prefix, error);
        Assert.Equal(prefix.Length + 300 + 3, error.Length);
        Assert.Equal(before, StoreFiles());
    }
}
