using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Tests.Platform;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Inference.Tests.Operations;

/// <summary>The platform's server with every log entry recorded (Information and up).</summary>
public sealed class PipelineServer : PlatformServer
{
    public CapturedLogs Logs { get; } = new();
    protected override IEnumerable<string> PlatformSettings => ["--Logging:LogLevel:Default=Information"];
    protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);
}

/// <summary>
/// Every API's generations go through the one pipeline: each appears in the time-to-first-token and
/// inter-token histograms (exact count deltas: one first token per generation, one gap per further piece)
/// and in exactly one "Generation finished" log line for its route. Tests in a class run one at a time, and
/// the server is the class's own, so nothing else moves these counts.
/// </summary>
public sealed class GenerationPipelineTests(PipelineServer server) : IClassFixture<PipelineServer>
{
    private const string Model = "stories:latest";

    private async Task<(double FirstTokens, double Gaps)> CountsAsync()
    {
        var metrics = await server.Client.GetStringAsync("/metrics");
        return (PrometheusText.Value(metrics, $"inference_time_to_first_token_seconds_count{{model=\"{Model}\"}}"),
            PrometheusText.Value(metrics, $"inference_inter_token_seconds_count{{model=\"{Model}\"}}"));
    }

    private List<CapturedLogs.Entry> Finished(string route) =>
        server.Logs.Entries.Where(e => e.Message.StartsWith("Generation finished", StringComparison.Ordinal) && (string?)e.Values["Route"] == route).ToList();

    /// <summary>Runs the request and checks the metrics and the log line against what the response reports.</summary>
    /// <param name="request">Returns, per generation, the pieces streamed (null when not streamed) and the tokens generated.</param>
    private async Task AssertObservedAsync(string route, Func<Task<IReadOnlyList<(int? Pieces, int Generated)>>> request)
    {
        var (firstTokens, gaps) = await CountsAsync();
        int logged = Finished(route).Count;

        var generations = await request();

        var (firstTokensAfter, gapsAfter) = await CountsAsync();
        Assert.Equal(generations.Count, firstTokensAfter - firstTokens);
        // Every generated token of these short ASCII stories is its own piece (no stop string holds text
        // back, and each generation is cut by its token limit, so no end-of-text token is counted).
        foreach (var g in generations)
            if (g.Pieces is { } pieces) Assert.Equal(g.Generated, pieces);
        Assert.Equal(generations.Sum(g => g.Generated - 1), gapsAfter - gaps);

        var lines = Finished(route).Skip(logged).ToList();
        Assert.Equal(generations.Count, lines.Count);
        Assert.All(lines, l => Assert.Equal(Model, l.Values["Model"]));
        Assert.Equal(generations.Select(g => g.Generated).Order(), lines.Select(l => (int)l.Values["EvalCount"]!).Order());
    }

    private static async Task<List<string>> LinesAsync(HttpResponseMessage response)
    {
        Assert.Equal(200, (int)response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static List<JsonNode> SseData(IEnumerable<string> lines) =>
        lines.Where(l => l.StartsWith("data: {", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l["data: ".Length..])!).ToList();

    [Fact]
    public async Task Ollama_generate_streamed() => await AssertObservedAsync("/api/generate", async () =>
    {
        using var response = await server.Client.PostAsync("/api/generate", TestServer.JsonContent(
            new { model = "stories", prompt = "Once upon a time", options = new { num_predict = 8, temperature = 0 } }));
        var lines = (await LinesAsync(response)).Select(l => JsonNode.Parse(l)!).ToList();
        var last = lines[^1];
        Assert.Equal("length", (string)last["done_reason"]!);
        return [(lines.Count(l => !(bool)l["done"]!), (int)last["eval_count"]!)];
    });

    [Fact]
    public async Task Ollama_chat_whole() => await AssertObservedAsync("/api/chat", async () =>
    {
        var (status, r) = await server.PostAsync("/api/chat", new
        {
            model = "stories", stream = false, options = new { num_predict = 7, temperature = 0 },
            messages = new[] { new { role = "user", content = "Tell me about a cat" } },
        });
        Assert.Equal(200, status);
        Assert.Equal("length", (string)r!["done_reason"]!);
        return [(null, (int)r["eval_count"]!)];
    });

    [Fact]
    public async Task OpenAI_completions_streamed() => await AssertObservedAsync("/v1/completions", async () =>
    {
        using var response = await server.Client.PostAsync("/v1/completions", TestServer.JsonContent(
            new { model = "stories", prompt = "Once upon a time", max_tokens = 6, temperature = 0, stream = true, stream_options = new { include_usage = true } }));
        var chunks = SseData(await LinesAsync(response));
        Assert.Equal("length", (string)chunks.Single(c => c["choices"]!.AsArray().Count > 0 && c["choices"]![0]!["finish_reason"] is not null)["choices"]![0]!["finish_reason"]!);
        int pieces = chunks.Count(c => c["choices"]!.AsArray().Count > 0 && c["choices"]![0]!["finish_reason"] is null);
        return [(pieces, (int)chunks[^1]["usage"]!["completion_tokens"]!)];
    });

    [Fact]
    public async Task OpenAI_chat_completions_whole() => await AssertObservedAsync("/v1/chat/completions", async () =>
    {
        var (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", max_tokens = 5, temperature = 0,
            messages = new[] { new { role = "user", content = "Tell me about a dog" } },
        });
        Assert.Equal(200, status);
        Assert.Equal("length", (string)r!["choices"]![0]!["finish_reason"]!);
        return [(null, (int)r["usage"]!["completion_tokens"]!)];
    });

    [Fact]
    public async Task Anthropic_messages_streamed() => await AssertObservedAsync("/v1/messages", async () =>
    {
        using var response = await server.Client.PostAsync("/v1/messages", TestServer.JsonContent(
            new { model = "stories", max_tokens = 6, temperature = 0, stream = true, messages = new[] { new { role = "user", content = "Tell me about a bird" } } }));
        var events = SseData(await LinesAsync(response));
        var delta = events.Single(e => (string)e["type"]! == "message_delta");
        Assert.Equal("max_tokens", (string)delta["delta"]!["stop_reason"]!);
        return [(events.Count(e => (string)e["type"]! == "content_block_delta"), (int)delta["usage"]!["output_tokens"]!)];
    });

    [Fact]
    public async Task OpenAI_responses_streamed() => await AssertObservedAsync("/v1/responses", async () =>
    {
        using var response = await server.Client.PostAsync("/v1/responses", TestServer.JsonContent(
            new { model = "stories", input = "Tell me about a fish", max_output_tokens = 6, temperature = 0, stream = true }));
        var events = SseData(await LinesAsync(response));
        var final = events[^1];
        Assert.Equal("response.incomplete", (string)final["type"]!);
        return [(events.Count(e => (string)e["type"]! == "response.output_text.delta"), (int)final["response"]!["usage"]!["output_tokens"]!)];
    });

    [Fact]
    public async Task Platform_generate_streamed() => await AssertObservedAsync("/ai/generate", async () =>
    {
        using var client = TestTokens.Client(server, TestTokens.For("alice"));
        using var response = await client.PostAsync("/ai/generate", TestServer.JsonContent(
            new { prompt = "Once upon a time", model = "stories", max_tokens = 6, temperature = 0, stream = true }));
        var lines = await LinesAsync(response);
        int tokens = lines.Count(l => l == "event: token");
        var done = JsonNode.Parse(lines[lines.IndexOf("event: done") + 1]["data: ".Length..])!;
        Assert.Equal("length", (string)done["done_reason"]!);
        return [(tokens, (int)done["eval_count"]!)];
    });

    [Fact]
    public async Task Platform_code_completion_counts_each_of_its_completions() => await AssertObservedAsync("/ai/code/complete", async () =>
    {
        using var client = TestTokens.Client(server, TestTokens.For("alice"));
        const string code = "Once upon a time there was";
        using var response = await client.PostAsync("/ai/code/complete", TestServer.JsonContent(
            new { code, language = "text", cursor_position = code.Length, model = "stories", n = 2, max_tokens = 5, seed = 1 }));
        Assert.Equal(200, (int)response.StatusCode);
        var r = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var choices = r["choices"]!.AsArray();
        Assert.Equal(2, choices.Count);
        Assert.All(choices, c => Assert.Equal("length", (string)c!["finish_reason"]!));
        Assert.Equal(10, (int)r["eval_count"]!);
        return [(null, 5), (null, 5)];
    });

    /// <summary>A model whose manifest is sound but whose GGUF blob is not a GGUF file.</summary>
    private string InstallBrokenBlob()
    {
        const string name = "broken-blob";
        var dir = Path.Combine(server.ModelsDirectory, "manifests", "registry.ollama.ai", "library", name);
        if (Directory.Exists(dir)) return name;
        string Blob(byte[] bytes)
        {
            var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
            Directory.CreateDirectory(Path.Combine(server.ModelsDirectory, "blobs"));
            File.WriteAllBytes(Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + hex), bytes);
            return "sha256:" + hex;
        }
        var junk = new byte[4096];
        "this is not a GGUF file"u8.CopyTo(junk);
        string config = Blob("{}"u8.ToArray()), model = Blob(junk);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "latest"),
            $"{{\"schemaVersion\":2,\"config\":{{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"{config}\",\"size\":2}}," +
            $"\"layers\":[{{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"{model}\",\"size\":{junk.Length}}}]}}");
        return name;
    }

    [Fact]
    public async Task A_broken_blob_is_a_500_in_each_route_groups_own_error_shape()
    {
        var name = InstallBrokenBlob();
        var prefix = $"model '{name}' cannot be used: ";

        var (ollama, o) = await server.PostAsync("/api/generate", new { model = name, prompt = "x" });
        Assert.Equal(500, ollama);
        Assert.StartsWith(prefix, (string)o!["error"]!);
        Assert.Single(o.AsObject());

        var (openAi, v1) = await server.PostAsync("/v1/chat/completions", new { model = name, messages = new[] { new { role = "user", content = "x" } } });
        Assert.Equal(500, openAi);
        var error = v1!["error"]!;
        Assert.StartsWith($"model \"{name}\" cannot be used: ", (string)error["message"]!);
        Assert.Equal("api_error", (string)error["type"]!);
        Assert.Equal("model", (string)error["param"]!);
        Assert.Equal((string)o["error"]!, ((string)error["message"]!).Replace($"\"{name}\"", $"'{name}'"));

        var (embed, e) = await server.PostAsync("/v1/embeddings", new { model = name, input = "x" });
        Assert.Equal(500, embed);
        Assert.Equal((string)error["message"]!, (string)e!["error"]!["message"]!);

        using var client = TestTokens.Client(server, TestTokens.For("alice"));
        using var platform = await client.PostAsync("/ai/generate", TestServer.JsonContent(new { prompt = "x", model = name }));
        Assert.Equal(500, (int)platform.StatusCode);
        var p = JsonNode.Parse(await platform.Content.ReadAsStringAsync())!;
        Assert.Equal((string)o["error"]!, (string)p["error"]!);
        Assert.Single(p.AsObject());
    }

    [Fact]
    public async Task An_engine_refusal_keeps_its_status_in_each_route_groups_shape()
    {
        // A prompt longer than the context can hold is refused by the engine (PromptTooLong / InputTooLong) before anything streams.
        var prompt = string.Join(' ', Enumerable.Repeat("story", 40_000));

        var (ollama, o) = await server.PostAsync("/api/generate", new { model = "stories", prompt, raw = true, truncate = false });
        Assert.Equal(400, ollama);
        var message = (string)o!["error"]!;
        Assert.Contains("context length", message);

        var (openAi, v1) = await server.PostAsync("/v1/completions", new { model = "stories", prompt, stream = true });
        Assert.Equal(400, openAi);
        Assert.Equal(message, (string)v1!["error"]!["message"]!);
        Assert.Equal("invalid_request_error", (string)v1["error"]!["type"]!);

        using var client = TestTokens.Client(server, TestTokens.For("alice"));
        using var platform = await client.PostAsync("/ai/generate", TestServer.JsonContent(new { prompt, model = "stories", stream = true }));
        Assert.Equal(400, (int)platform.StatusCode);
        Assert.Contains("context length", (string)JsonNode.Parse(await platform.Content.ReadAsStringAsync())!["error"]!);
    }
}
