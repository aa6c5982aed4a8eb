using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Engine.Models;
using Inference.Engine.Store;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>A server of its own: these tests create, replace and delete models.</summary>
public sealed class LoraServer : TestServer;

/// <summary>
/// Ollama's ADAPTER end to end: /api/create with "adapters" (a blob digest, like "files"), a random-weight LoRA
/// for stories260K, greedy outputs with and without it, batching on the adapter model, /api/show, deletes, and
/// adapters llama.cpp must never see refused with 400.
/// </summary>
public sealed class LoraAdapterTests(LoraServer server) : IClassFixture<LoraServer>
{
    private static object Greedy(string model, string prompt = "Once upon a time", int tokens = 24) => new
    {
        model,
        prompt,
        stream = false,
        options = new { temperature = 0, num_predict = tokens, num_ctx = 512 },
    };

    private async Task<string> GenerateAsync(string model, string prompt = "Once upon a time", int tokens = 24)
    {
        var (status, body) = await server.PostAsync("/api/generate", Greedy(model, prompt, tokens));
        Assert.True(status == 200, $"{status}: {body}");
        Assert.Equal(tokens, (int)body!["eval_count"]!);
        return (string)body["response"]!;
    }

    /// <summary>Uploads bytes as a blob (POST /api/blobs/digest) and returns the digest.</summary>
    private async Task<string> UploadAsync(byte[] bytes)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await server.Client.PostAsync($"/api/blobs/{digest}", content);
        Assert.Equal(201, (int)response.StatusCode);
        return digest;
    }

    private Task<(int Status, JsonNode? Body)> CreateAsync(string name, string from, params string[] adapters) =>
        server.PostAsync("/api/create", new
        {
            model = name,
            from,
            adapters = adapters.Select((digest, i) => (digest, i)).ToDictionary(a => $"adapter{a.i}.gguf", a => a.digest),
            stream = false,
        });

    private async Task CreateOkAsync(string name, string from, params string[] adapters)
    {
        var (status, body) = await CreateAsync(name, from, adapters);
        Assert.True(status == 200, $"{status}: {body}");
        Assert.Equal("success", (string)body!["status"]!);
    }

    private async Task<string> ModelfileAsync(string model)
    {
        var (status, body) = await server.PostAsync("/api/show", new { model });
        Assert.Equal(200, status);
        return (string)body!["modelfile"]!;
    }

    private string BlobPath(string digest) => Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + digest["sha256:".Length..]);

    private async Task<bool> BlobExistsAsync(string digest)
    {
        using var response = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/blobs/{digest}"));
        return response.StatusCode == System.Net.HttpStatusCode.OK;
    }

    [Fact]
    public async Task The_adapter_changes_greedy_output_the_base_model_stays_the_same_and_removing_it_returns_to_base()
    {
        var before = await GenerateAsync("stories");
        var adapter = await UploadAsync(new LoraGguf { Seed = 1 }.Build(TestModels.Stories260K));
        await CreateOkAsync("stories-lora", "stories", adapter);

        var adapted = await GenerateAsync("stories-lora");
        Assert.NotEqual(before, adapted);
        Assert.Equal(adapted, await GenerateAsync("stories-lora")); // greedy: the adapter model is deterministic too

        // Both loaded at once, each its own runner: running them together changes neither.
        var together = await Task.WhenAll(GenerateAsync("stories"), GenerateAsync("stories-lora"), GenerateAsync("stories"));
        Assert.Equal([before, adapted, before], together);
        var ps = await server.GetJsonAsync("/api/ps");
        var loaded = ps["models"]!.AsArray().Select(m => (string)m!["name"]!).ToList();
        Assert.Contains("stories:latest", loaded);
        Assert.Contains("stories-lora:latest", loaded);
        Assert.Equal(before, await GenerateAsync("stories"));

        // /api/show lists the adapter as Ollama does, as an ADAPTER line of the Modelfile.
        var modelfile = await ModelfileAsync("stories-lora");
        Assert.Contains($"\nADAPTER {BlobPath(adapter)}\n", modelfile);
        Assert.DoesNotContain("ADAPTER", await ModelfileAsync("stories"));

        // Embeddings go through the adapter as well.
        var (s1, plain) = await server.PostAsync("/api/embed", new { model = "stories", input = "a cat" });
        var (s2, lora) = await server.PostAsync("/api/embed", new { model = "stories-lora", input = "a cat" });
        Assert.Equal((200, 200), (s1, s2));
        Assert.NotEqual(plain!["embeddings"]![0]!.ToJsonString(), lora!["embeddings"]![0]!.ToJsonString());

        // The same name created again without the adapter (it is loaded) answers as the base model.
        await CreateOkAsync("stories-lora", "stories");
        Assert.DoesNotContain("ADAPTER", await ModelfileAsync("stories-lora"));
        Assert.Equal(before, await GenerateAsync("stories-lora"));
        // And with it again, as before.
        await CreateOkAsync("stories-lora", "stories", adapter);
        Assert.Equal(adapted, await GenerateAsync("stories-lora"));

        // A model created from the adapter model keeps its adapter (Ollama carries the layers over).
        await CreateOkAsync("stories-lora-copy", "stories-lora");
        Assert.Equal(adapted, await GenerateAsync("stories-lora-copy"));
        // Another adapter gives other output.
        var other = await UploadAsync(new LoraGguf { Seed = 2 }.Build(TestModels.Stories260K));
        await CreateOkAsync("stories-lora-2", "stories", other);
        var adapted2 = await GenerateAsync("stories-lora-2");
        Assert.NotEqual(before, adapted2);
        Assert.NotEqual(adapted, adapted2);
    }

    [Fact]
    public async Task Concurrent_requests_on_the_adapter_model_are_decoded_in_one_batch()
    {
        var adapter = await UploadAsync(new LoraGguf { Seed = 3 }.Build(TestModels.Stories260K));
        await CreateOkAsync("stories-batch", "stories", adapter);
        string[] prompts = ["Once upon a time, a little bird", "Tom and Sue went to the shop"];
        var alone = new List<string>();
        foreach (var prompt in prompts) alone.Add(await GenerateAsync("stories-batch", prompt, 64));

        const string label = "model=\"stories-batch:latest\"";
        var metrics = await server.Client.GetStringAsync("/metrics");
        double batchedBefore = BatchedSteps(metrics, label);
        Assert.Equal(1, PrometheusText.Value(metrics, $"inference_max_batch_sequences{{{label}}}"));

        var together = await Task.WhenAll(prompts.Select(p => GenerateAsync("stories-batch", p, 64)));
        Assert.Equal(alone, together);
        metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Equal(2, PrometheusText.Value(metrics, $"inference_max_batch_sequences{{{label}}}"));
        Assert.True(BatchedSteps(metrics, label) - batchedBefore > 32, "most of the 64 steps should decode both sequences");
    }

    /// <summary>Decode steps with two or more sequences so far (total minus the le="1" bucket).</summary>
    private static double BatchedSteps(string metrics, string label) =>
        PrometheusText.Value(metrics, $"inference_batch_sequences_count{{{label}}}")
        - PrometheusText.Value(metrics, $"inference_batch_sequences_bucket{{{label},le=\"1\"}}");

    [Fact]
    public async Task Deleting_the_base_model_keeps_the_adapter_model_working()
    {
        // A base model of its own blob (one changed weight byte), so that only the two models below use it.
        var weights = await File.ReadAllBytesAsync(TestModels.Stories260K);
        weights[^1] ^= 0x11;
        var modelBlob = await UploadAsync(weights);
        var (status, body) = await server.PostAsync("/api/create", new { model = "own-base", files = new Dictionary<string, string> { ["model.gguf"] = modelBlob }, stream = false });
        Assert.True(status == 200, $"{status}: {body}");
        var adapter = await UploadAsync(new LoraGguf { Seed = 4 }.Build(TestModels.Stories260K));
        await CreateOkAsync("own-lora", "own-base", adapter);
        var adapted = await GenerateAsync("own-lora");
        Assert.NotEqual(await GenerateAsync("own-base"), adapted);
        await server.PostAsync("/api/generate", new { model = "own-lora", keep_alive = 0 }); // the next request loads it from the store again

        using (var deleted = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = TestServer.JsonContent(new { model = "own-base" }) }))
            Assert.Equal(200, (int)deleted.StatusCode);
        Assert.True(await BlobExistsAsync(modelBlob));
        Assert.Equal(adapted, await GenerateAsync("own-lora"));

        using (var deleted = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = TestServer.JsonContent(new { model = "own-lora" }) }))
            Assert.Equal(200, (int)deleted.StatusCode);
        Assert.False(await BlobExistsAsync(modelBlob));
        Assert.False(await BlobExistsAsync(adapter));
    }

    public static TheoryData<string, string> BadAdapters => new()
    {
        { "not-gguf", "invalid adapter file: not a GGUF file (bad magic)" },
        { "model-not-adapter", "invalid adapter: general.type must be the string \"adapter\" (this GGUF is not an adapter)" },
        { "other-architecture", "invalid adapter: the adapter's architecture 'gpt2' does not match the base model's 'llama'" },
        { "alpha-float64", "invalid adapter: adapter.lora.alpha must be a finite float32" },
        { "for-another-model", "invalid adapter: blk.0.attn_q.weight: lora_a [8, 4] and lora_b [4, 8] do not fit the base weight [64, 64] (expected [64, r] and [r, 64])" },
        { "token-embedding", "invalid adapter: token_embd.weight is not a weight adapters can change (attention and feed-forward projections and output.weight)" },
        { "missing-lora-b", "invalid adapter: the adapter has .lora_a but no .lora_b for blk.0.ffn_up.weight" },
        { "not-in-base", "invalid adapter: the base model has no tensor blk.7.attn_q.weight (is the adapter for another model?)" },
        { "activated-lora", "invalid adapter: activated LoRA adapters (adapter.alora.invocation_tokens) are not supported" },
    };

    private static byte[] BadAdapter(string kind) => kind switch
    {
        "not-gguf" => "this is not a GGUF file at all"u8.ToArray(),
        "model-not-adapter" => File.ReadAllBytes(TestModels.TinyRandomLlama2),
        "other-architecture" => new LoraGguf { Architecture = "gpt2" }.Build(TestModels.Stories260K),
        "alpha-float64" => new LoraGguf { AlphaAsFloat64 = true }.Build(TestModels.Stories260K),
        "for-another-model" => new LoraGguf().Build(TestModels.TinyRandomLlama2),
        "token-embedding" => new LoraGguf { Adapts = t => t.Name == "token_embd.weight" }.Build(TestModels.Stories260K),
        "missing-lora-b" => new LoraGguf { Adapts = _ => false, Extra = b => b.AddTensor("blk.0.ffn_up.weight.lora_a", 0, 64 * 4 * 4, 64, 4) }.Build(TestModels.Stories260K),
        "not-in-base" => new LoraGguf
        {
            Adapts = _ => false,
            Extra = b => b.AddTensor("blk.7.attn_q.weight.lora_a", 0, 64 * 4 * 4, 64, 4).AddTensor("blk.7.attn_q.weight.lora_b", 0, 64 * 4 * 4, 4, 64),
        }.Build(TestModels.Stories260K),
        "activated-lora" => new LoraGguf { Extra = b => b.AddArray("adapter.alora.invocation_tokens", Inference.Engine.Gguf.GgufValueType.UInt32, 1u, 2u) }.Build(TestModels.Stories260K),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(BadAdapters))]
    public async Task An_adapter_llama_cpp_must_not_see_is_a_400_at_create_and_nothing_is_written(string kind, string error)
    {
        var digest = await UploadAsync(BadAdapter(kind));
        var (status, body) = await CreateAsync("bad-" + kind, "stories", digest);
        Assert.Equal(400, status);
        Assert.Equal(error, (string)body!["error"]!);
        var tags = await server.GetJsonAsync("/api/tags");
        Assert.DoesNotContain(tags["models"]!.AsArray(), m => ((string)m!["name"]!).StartsWith("bad-" + kind, StringComparison.Ordinal));
        Assert.Equal(200, (await server.PostAsync("/api/generate", Greedy("stories", tokens: 2))).Status);
    }

    [Fact]
    public async Task Adapters_field_errors_are_400_as_in_ollama()
    {
        var a = await UploadAsync(new LoraGguf { Seed = 5 }.Build(TestModels.Stories260K));
        var b = await UploadAsync(new LoraGguf { Seed = 6 }.Build(TestModels.Stories260K));
        async Task Expect(object request, string error, int expected = 400)
        {
            var (status, body) = await server.PostAsync("/api/create", request);
            Assert.Equal(expected, status);
            Assert.Equal(error, (string)body!["error"]!);
        }
        await Expect(new { model = "x", from = "stories", adapters = new Dictionary<string, string> { ["a.gguf"] = a, ["b.gguf"] = b } },
            "only one adapter is currently supported");
        await Expect(new { model = "x", from = "stories", adapters = new[] { a } },
            "adapters must be an object of file names to blob digests, e.g. {\"adapter.gguf\": \"sha256:...\"}");
        await Expect(new { model = "x", from = "stories", adapters = new Dictionary<string, string> { ["a.gguf"] = "sha256:xyz" } },
            "adapters: invalid digest for 'a.gguf'");
        await Expect(new { model = "x", from = "stories", adapters = new Dictionary<string, string> { ["adapter_model.safetensors"] = a } },
            "only GGUF adapters are supported; convert a safetensors adapter with llama.cpp's convert_lora_to_gguf.py");
        var missing = "sha256:" + new string('0', 64);
        await Expect(new { model = "x", from = "stories", adapters = new Dictionary<string, string> { ["a.gguf"] = missing } },
            $"adapter blob {missing} not found: upload it first with POST /api/blobs/{missing}");
        await Expect(new { model = "x", from = "missing-base", adapters = new Dictionary<string, string> { ["a.gguf"] = a } },
            "model 'missing-base:latest' not found", expected: 404);
    }

    [Fact]
    public async Task An_adapter_given_as_the_model_is_a_400_saying_where_it_goes()
    {
        var adapter = await UploadAsync(new LoraGguf { Seed = 9 }.Build(TestModels.Stories260K));
        var (status, body) = await server.PostAsync("/api/create", new { model = "adapter-as-model", files = new Dictionary<string, string> { ["model.gguf"] = adapter }, stream = false });
        Assert.Equal(400, status);
        Assert.Equal("the file is a LoRA adapter, not a model: create a model from its base model with the adapter's blob in 'adapters'", (string)body!["error"]!);
    }

    [Fact]
    public async Task A_stored_manifest_with_two_adapters_applies_both_and_more_than_four_are_refused()
    {
        // Ollama's create adds one adapter, but a manifest from elsewhere may list several: llama.cpp applies them together.
        var store = server.Get<ModelCatalog>().Store;
        var stories = store.GetManifest(ModelName.Parse("stories"))!;
        var digests = new List<string>();
        for (int seed = 10; seed < 15; seed++) digests.Add(await UploadAsync(new LoraGguf { Seed = seed, Magnitude = 0.3f }.Build(TestModels.Stories260K)));
        async Task WriteAsync(string name, IEnumerable<string> adapters)
        {
            var layers = stories.Layers.Concat(adapters.Select(d => new ManifestLayer(MediaTypes.Adapter, d, new FileInfo(BlobPath(d)).Length))).ToList();
            await store.WriteManifestAsync(ModelName.Parse(name), new ModelManifest { Config = stories.Config, Layers = layers }, CancellationToken.None);
        }
        await WriteAsync("first-only", digests.Take(1));
        await WriteAsync("second-only", digests.Skip(1).Take(1));
        await WriteAsync("both", digests.Take(2));
        await WriteAsync("five", digests);

        var both = await GenerateAsync("both");
        Assert.NotEqual(await GenerateAsync("first-only"), both);
        Assert.NotEqual(await GenerateAsync("second-only"), both);
        Assert.NotEqual(await GenerateAsync("stories"), both);
        Assert.Equal(2, (await ModelfileAsync("both")).Split('\n').Count(l => l.StartsWith("ADAPTER ", StringComparison.Ordinal)));

        var (status, body) = await server.PostAsync("/api/generate", Greedy("five"));
        Assert.Equal(400, status);
        Assert.Equal("model 'five' cannot be used: the manifest has 5 adapter layers; at most 4 are supported; delete it and pull or create it again", (string)body!["error"]!);
    }

    [Fact]
    public async Task The_ollama_js_client_creates_and_runs_an_adapter_model_unchanged()
    {
        var adapter = await UploadAsync(new LoraGguf { Seed = 8 }.Build(TestModels.Stories260K));
        var bad = await UploadAsync(new LoraGguf { Seed = 8, Architecture = "gpt2" }.Build(TestModels.Stories260K));
        var r = await CompatClient.RunAsync("ollama-js-adapter.mjs", "ollama", new Dictionary<string, string>
        {
            ["OLLAMA_URL"] = server.BaseUrl, ["BASE"] = "stories", ["ADAPTER"] = adapter, ["BAD_ADAPTER"] = bad,
        });
        Assert.Equal("success", (string)r["created"]!);
        var progress = r["progress"]!.AsArray().Select(p => (string)p!).ToList();
        Assert.Contains($"using existing layer {adapter}", progress);
        Assert.Equal("success", progress[^1]);
        Assert.Contains($"\nADAPTER {BlobPath(adapter)}\n", (string)r["modelfile"]!);
        Assert.Equal(16, (int)r["adaptedEvalCount"]!);
        Assert.NotEqual((string)r["plain"]!, (string)r["adapted"]!);
        Assert.Equal((string)r["adapted"]!, (string)r["streamedModel"]!);
        Assert.Equal(await GenerateAsync("stories", tokens: 16), (string)r["plain"]!);
        Assert.Equal(400, (int)r["badError"]!["status"]!);
        Assert.Equal("invalid adapter: the adapter's architecture 'gpt2' does not match the base model's 'llama'", (string)r["badError"]!["message"]!);
    }

    [Fact]
    public async Task A_stored_manifest_with_a_bad_adapter_layer_is_refused_before_llama_cpp_loads_it()
    {
        // As a pull from a registry or another tool sharing the store could write it: no /api/create check ran.
        var store = server.Get<ModelCatalog>().Store;
        var wrong = await UploadAsync(new LoraGguf { Seed = 7 }.Build(TestModels.TinyRandomLlama2));
        var stories = store.GetManifest(ModelName.Parse("stories"))!;
        var layers = stories.Layers.Append(new ManifestLayer(MediaTypes.Adapter, wrong, new FileInfo(BlobPath(wrong)).Length)).ToList();
        await store.WriteManifestAsync(ModelName.Parse("pulled-lora"), new ModelManifest { Config = stories.Config, Layers = layers }, CancellationToken.None);

        var (status, body) = await server.PostAsync("/api/generate", Greedy("pulled-lora"));
        Assert.Equal(400, status);
        Assert.Equal($"model 'pulled-lora' cannot be used: the adapter blob {wrong} cannot be applied: " +
            "blk.0.attn_q.weight: lora_a [8, 4] and lora_b [4, 8] do not fit the base weight [64, 64] (expected [64, r] and [r, 64]); delete it and pull or create it again",
            (string)body!["error"]!);
        Assert.Equal(200, (await server.PostAsync("/api/generate", Greedy("stories", tokens: 2))).Status);
    }
}
