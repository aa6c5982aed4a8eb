using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>A server whose models directory gets broken manifests written into it by the tests, as a damaged or hostile store would have.</summary>
public sealed class BrokenStoreServer : TestServer;

/// <summary>
/// One malformed manifest on disk makes only its own model unusable, with a 400 in each API's error
/// shape on every route that uses it, never a 500 or a cut stream; listings and other models keep working.
/// </summary>
public sealed class MalformedManifestTests(BrokenStoreServer server) : IClassFixture<BrokenStoreServer>
{
    private const string ConfigType = "application/vnd.docker.container.image.v1+json";
    private const string ModelType = "application/vnd.ollama.image.model";

    private string StoriesDigest => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(TestModels.Stories260K)));

    /// <summary>A blob written straight into the store (as another tool might); returns its digest.</summary>
    private string WriteBlob(byte[] bytes)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
        File.WriteAllBytes(Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + hex), bytes);
        return "sha256:" + hex;
    }

    private string Config => $"{{\"mediaType\":\"{ConfigType}\",\"digest\":\"{WriteBlob("{}"u8.ToArray())}\",\"size\":2}}";

    private string Manifest(string layers) => $"{{\"schemaVersion\":2,\"config\":{Config},\"layers\":{layers}}}";

    private static string Layer(string mediaType, string digest, long size) => $"{{\"mediaType\":\"{mediaType}\",\"digest\":\"{digest}\",\"size\":{size}}}";

    private string WriteManifest(string name, string text)
    {
        var dir = Path.Combine(server.ModelsDirectory, "manifests", "registry.ollama.ai", "library", name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "latest"), text);
        return Path.Combine(dir, "latest");
    }

    private string Broken(string name) => name switch
    {
        "negative-size" => Manifest($"[{Layer(ModelType, StoriesDigest, -5)}]"),
        "null-layers" => Manifest("null"),
        "missing-layers" => $"{{\"schemaVersion\":2,\"config\":{Config}}}",
        "null-layer" => Manifest("[null]"),
        "missing-config" => $"{{\"schemaVersion\":2,\"layers\":[{Layer(ModelType, StoriesDigest, 10)}]}}",
        "traversal-digest" => Manifest($"[{Layer(ModelType, "sha256:../../../../etc/passwd", 10)}]"),
        "short-digest" => Manifest($"[{Layer(ModelType, StoriesDigest[..^1], 10)}]"),
        "not-json" => "this is not JSON",
        "json-null" => "null",
        "too-large" => Manifest($"[{Layer(ModelType, StoriesDigest, 10)}]") + new string(' ', 5 << 20),
        "no-model-layer" => Manifest("[]"),
        "missing-blob" => Manifest($"[{Layer(ModelType, "sha256:" + new string('0', 64), 10)}]"),
        "template-is-a-model" => Manifest($"[{Layer(ModelType, StoriesDigest, 10)},{Layer("application/vnd.ollama.image.template", WriteBlob(new byte[5 << 20]), 5 << 20)}]"),
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> Cases() =>
    [
        "negative-size", "null-layers", "missing-layers", "null-layer", "missing-config", "traversal-digest", "short-digest",
        "not-json", "json-null", "too-large", "no-model-layer", "missing-blob", "template-is-a-model",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_malformed_manifest_is_a_400_on_every_route_that_uses_it(string name)
    {
        var path = WriteManifest(name, Broken(name));
        var blobsBefore = Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs")).Order().ToArray();
        var prefix = $"model '{name}' cannot be used: ";

        async Task Ollama(string route, object body, string expectedPrefix)
        {
            var (status, r) = await server.PostAsync(route, body);
            Assert.True(status == 400, $"{route}: {status} {r?.ToJsonString()}");
            Assert.StartsWith(expectedPrefix, (string)r!["error"]!);
        }
        await Ollama("/api/show", new { model = name }, prefix);
        await Ollama("/api/generate", new { model = name, prompt = "x", stream = false }, prefix);
        await Ollama("/api/generate", new { model = name, prompt = "x" }, prefix); // streamed: refused before the stream starts
        await Ollama("/api/chat", new { model = name, messages = new[] { new { role = "user", content = "x" } } }, prefix);
        await Ollama("/api/embed", new { model = name, input = "x" }, prefix);
        await Ollama("/api/copy", new { source = name, destination = name + "-copy" }, $"model '{name}' cannot be copied: ");
        await Ollama("/api/create", new { model = name + "-derived", from = name, stream = false }, $"model '{name}:latest' cannot be used: ");

        var (openAiStatus, openAi) = await server.PostAsync("/v1/chat/completions", new { model = name, messages = new[] { new { role = "user", content = "x" } } });
        Assert.Equal(400, openAiStatus);
        Assert.StartsWith($"model \"{name}\" cannot be used: ", (string)openAi!["error"]!["message"]!);
        // A manifest that parses but names missing or misplaced blobs is still listed (so it can be seen
        // and deleted, as Ollama lists it); one that does not parse is skipped. Either way, nothing else is hidden.
        bool parses = name is "no-model-layer" or "missing-blob" or "template-is-a-model";
        using var one = await server.Client.GetAsync($"/v1/models/{name}");
        Assert.Equal(parses ? 200 : 400, (int)one.StatusCode);
        var tags = (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Select(m => (string)m!["name"]!).ToList();
        Assert.Contains("stories:latest", tags);
        Assert.Equal(parses, tags.Contains($"{name}:latest"));
        Assert.Contains("stories:latest", (await server.GetJsonAsync("/v1/models"))["data"]!.AsArray().Select(m => (string)m!["id"]!));
        Assert.False(File.Exists(Path.Combine(server.ModelsDirectory, "manifests", "registry.ollama.ai", "library", name + "-copy", "latest")));
        Assert.False(Directory.Exists(Path.Combine(server.ModelsDirectory, "manifests", "registry.ollama.ai", "library", name + "-derived")));
        Assert.Equal(blobsBefore, Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs")).Order().ToArray());

        // Delete removes the manifest (and nothing any other model uses).
        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = TestServer.JsonContent(new { model = name }) };
        Assert.Equal(200, (int)(await server.Client.SendAsync(delete)).StatusCode);
        Assert.False(File.Exists(path));
        var (okStatus, ok) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 2 } });
        Assert.Equal(200, okStatus);
        Assert.Equal(2, (int)ok!["eval_count"]!);
    }

    [Fact]
    public async Task Unknown_layers_and_a_broken_config_do_not_stop_a_model_from_being_listed_or_used()
    {
        var badConfig = WriteBlob(Encoding.UTF8.GetBytes("{not json"));
        WriteManifest("odd", $"{{\"schemaVersion\":2,\"config\":{{\"mediaType\":\"{ConfigType}\",\"digest\":\"{badConfig}\",\"size\":9}},"
            + $"\"layers\":[{Layer(ModelType, StoriesDigest, new FileInfo(TestModels.Stories260K).Length)},{Layer("application/x-future-layer", "sha256:" + new string('1', 64), 1_000_000_000_000_000)}]}}");
        var listed = (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Single(m => (string)m!["name"]! == "odd:latest")!;
        Assert.Equal("", (string)listed["details"]!["family"]!); // the config could not be read
        var (status, r) = await server.PostAsync("/api/generate", new { model = "odd", prompt = "Once", stream = false, options = new { num_predict = 2 } });
        Assert.Equal(200, status);
        Assert.Equal(2, (int)r!["eval_count"]!);
        Assert.Equal(200, (await server.PostAsync("/api/show", new { model = "odd" })).Status);
    }
}
