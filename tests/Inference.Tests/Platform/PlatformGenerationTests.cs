using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Platform;

public sealed class PlatformGenerationTests(PlatformServer server) : IClassFixture<PlatformServer>
{
    private HttpClient Client() => TestTokens.Client(server, TestTokens.For("alice", "tenant_acme"));

    private async Task<(int Status, JsonNode? Body)> PostAsync(string path, object body)
    {
        using var client = Client();
        using var response = await client.PostAsync(path, TestServer.JsonContent(body));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task Generate_returns_the_response_model_eval_count_and_duration()
    {
        var (status, body) = await PostAsync("/ai/generate", new { prompt = "Once upon a time", model = "stories", temperature = 0, max_tokens = 12 });
        Assert.Equal(200, status);
        Assert.Equal("stories:latest", (string)body!["model"]!);
        Assert.Equal(12, (int)body["eval_count"]!);
        Assert.False(string.IsNullOrWhiteSpace((string)body["response"]!));
        Assert.True((double)body["total_duration_ms"]! > 0);
        Assert.Equal("length", (string)body["done_reason"]!);
    }

    [Fact]
    public async Task Generate_matches_the_ollama_route_for_the_same_prompt_and_system_with_context_as_guidance()
    {
        // context goes into the system part: the same prompt through /api/generate with that system text gives the same greedy output.
        var (status, ai) = await PostAsync("/ai/generate",
            new { prompt = "The dog", model = "stories", temperature = 0, max_tokens = 10, system = "Be kind.", context = "Lily has a red ball." });
        Assert.Equal(200, status);
        var (ollamaStatus, ollama) = await server.PostAsync("/api/generate", new
        {
            model = "stories", prompt = "The dog", system = "Be kind.\n\nContext:\nLily has a red ball.", stream = false,
            options = new { temperature = 0, num_predict = 10 },
        });
        Assert.Equal(200, ollamaStatus);
        Assert.Equal((string)ollama!["response"]!, (string)ai!["response"]!);
    }

    [Fact]
    public async Task Generate_without_a_model_uses_the_configured_default_or_an_installed_one_and_says_which()
    {
        var (status, body) = await PostAsync("/ai/generate", new { prompt = "Tim went", temperature = 0, max_tokens = 3 });
        Assert.Equal(200, status);
        // No Platform:DefaultModel is set: the first installed model by name.
        Assert.Equal("stories:latest", (string)body!["model"]!);
    }

    [Fact]
    public async Task Streaming_sends_token_events_then_a_done_event_with_the_summary()
    {
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ai/generate")
        {
            Content = TestServer.JsonContent(new { prompt = "Once upon a time", model = "stories", temperature = 0, max_tokens = 8, stream = true }),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = ParseEvents(await response.Content.ReadAsStringAsync());

        Assert.Equal("done", events[^1].Name);
        Assert.All(events[..^1], e => Assert.Equal("token", e.Name));
        var pieces = string.Concat(events[..^1].Select(e => (string)e.Data["response"]!));
        var done = events[^1].Data;
        Assert.Equal(pieces, (string)done["response"]!);
        Assert.Equal(8, (int)done["eval_count"]!);

        var (_, whole) = await PostAsync("/ai/generate", new { prompt = "Once upon a time", model = "stories", temperature = 0, max_tokens = 8 });
        Assert.Equal((string)whole!["response"]!, pieces);
    }

    private static List<(string Name, JsonNode Data)> ParseEvents(string text)
    {
        var events = new List<(string, JsonNode)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            var name = lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            var data = lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
            events.Add((name, JsonNode.Parse(data)!));
        }
        return events;
    }

    [Theory]
    [InlineData("{}", "prompt is required")]
    [InlineData("{\"prompt\": \"  \"}", "prompt is required")]
    [InlineData("{\"prompt\": \"x\", \"temperature\": 3}", "temperature must be between 0 and 2")]
    [InlineData("{\"prompt\": \"x\", \"max_tokens\": 0}", "max_tokens must be between 1 and 8192")]
    [InlineData("{\"prompt\": 5}", "invalid request: field 'prompt' has the wrong type")]
    [InlineData("{\"prompt\": \"x\", \"model\": \"nope\"}", "model 'nope' not found")]
    [InlineData("not json", null)]
    public async Task Bad_requests_get_a_json_error(string body, string? expected)
    {
        using var client = Client();
        using var response = await client.PostAsync("/ai/generate", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(expected == "model 'nope' not found" ? 404 : 400, (int)response.StatusCode);
        var error = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        if (expected is null) Assert.StartsWith("invalid JSON", error);
        else Assert.Equal(expected, error);
    }

    [Fact]
    public async Task Models_lists_installed_models_with_details_and_whether_each_is_loaded()
    {
        var (status, _) = await PostAsync("/ai/generate", new { prompt = "Hi", model = "stories", max_tokens = 1 });
        Assert.Equal(200, status);
        using var client = Client();
        var body = JsonNode.Parse(await client.GetStringAsync("/ai/models"))!;
        var models = body["models"]!.AsArray();
        var stories = models.Single(m => (string)m!["name"]! == "stories:latest")!;
        var tags = JsonNode.Parse(await server.Client.GetStringAsync("/api/tags"))!["models"]!.AsArray();
        Assert.Equal((long)tags.Single(m => (string)m!["name"]! == "stories:latest")!["size"]!, (long)stories["size"]!);
        Assert.True((long)stories["size"]! >= new FileInfo(TestModels.Stories260K).Length);
        Assert.Equal("llama", (string)stories["family"]!);
        Assert.Equal("F32", (string)stories["quantization_level"]!);
        Assert.Equal((string)tags.Single(m => (string)m!["name"]! == "stories:latest")!["details"]!["parameter_size"]!, (string)stories["parameter_size"]!);
        Assert.True((bool)stories["loaded"]!);
        Assert.True(DateTimeOffset.Parse((string)stories["modified_at"]!) > DateTimeOffset.UtcNow.AddHours(-1));
        // With no catalog model installed, the first installed model answers SQL and generation requests.
        Assert.Contains("generation", stories["default_for"]!.AsArray().Select(t => (string)t!));
        Assert.Contains(models, m => (string)m!["name"]! == "tiny:latest");
    }
}
