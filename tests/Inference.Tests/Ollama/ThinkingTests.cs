using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// think end to end on models created from stories260K with templates that show reasoning in &lt;think&gt; tags.
/// A raw grammar forces the output to "&lt;think&gt;I plan.&lt;/think&gt;Hello", so the split into reasoning and
/// content is exact on every route, streamed (the tags arrive over several tokens) and whole.
/// </summary>
[Collection("server")]
public sealed class ThinkingTests(SharedServer server) : IAsyncLifetime
{
    // The reasoning of earlier turns goes back into the prompt; the last line shows .IsThinkSet, .Think and .ThinkLevel.
    private const string Template = """
        {{- range .Messages }}
        {{- if eq .Role "user" }}U: {{ .Content }}
        {{ else if eq .Role "assistant" }}A: {{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}
        {{ end }}
        {{- end }}A:{{ if .IsThinkSet }} think={{ .Think }} level={{ .ThinkLevel }}{{ end }}
        """;

    // The same, but the prompt itself opens the reasoning when thinking is on (as DeepSeek-R1-style templates do).
    private const string OpeningTemplate = """
        {{- range .Messages }}
        {{- if eq .Role "user" }}U: {{ .Content }}
        {{ else if eq .Role "assistant" }}A: {{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}
        {{ end }}
        {{- end }}A:{{ if .Think }}<think>{{ end }}
        """;

    private const string Forced = "root ::= \"<think>I plan.</think>Hello\"";

    private static readonly SemaphoreSlim CreateOnce = new(1, 1);
    private static readonly HashSet<string> Created = [];

    public async Task InitializeAsync()
    {
        await CreateOnce.WaitAsync();
        try
        {
            if (!Created.Add(server.BaseUrl)) return;
            foreach (var (name, template) in new[] { ("thinker", Template), ("thinker-open", OpeningTemplate) })
            {
                var (status, r) = await server.PostAsync("/api/create", new { model = name, from = "stories", template, stream = false });
                Assert.True(status == 200, r?.ToJsonString());
            }
        }
        finally
        {
            CreateOnce.Release();
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly object[] Question = [new { role = "user", content = "Hi" }];
    private static readonly object Options = new { temperature = 0, num_predict = 64 };

    [Fact]
    public async Task Show_lists_the_thinking_capability_only_for_templates_that_show_reasoning()
    {
        var show = (await server.PostAsync("/api/show", new { model = "thinker" })).Body!;
        Assert.Equal(["completion", "thinking"], show["capabilities"]!.AsArray().Select(c => (string)c!));
        show = (await server.PostAsync("/api/show", new { model = "stories" })).Body!;
        Assert.Equal(["completion"], show["capabilities"]!.AsArray().Select(c => (string)c!));
    }

    [Fact]
    public async Task Generate_returns_the_reasoning_in_thinking_and_thinks_by_default()
    {
        var (status, r) = await server.PostAsync("/api/generate",
            new { model = "thinker", prompt = "Hi", grammar = Forced, stream = false, options = Options });
        Assert.Equal(200, status);
        Assert.Equal("Hello", (string)r!["response"]!);
        Assert.Equal("I plan.", (string)r["thinking"]!);
        Assert.Equal("stop", (string)r["done_reason"]!);

        // think: false leaves the output as the model wrote it.
        (status, r) = await server.PostAsync("/api/generate",
            new { model = "thinker", prompt = "Hi", grammar = Forced, think = false, stream = false, options = Options });
        Assert.Equal(200, status);
        Assert.Equal("<think>I plan.</think>Hello", (string)r!["response"]!);
        Assert.Null(r["thinking"]);
    }

    [Fact]
    public async Task Generate_streams_reasoning_and_content_in_separate_lines_reasoning_first()
    {
        var lines = await server.StreamAsync("/api/generate",
            new { model = "thinker", prompt = "Hi", grammar = Forced, think = "high", options = Options });
        var pieces = lines[..^1];
        Assert.True((bool)lines[^1]["done"]!);
        Assert.All(pieces, l => Assert.True(((string?)l["thinking"] ?? "").Length > 0 ^ ((string)l["response"]!).Length > 0, l.ToJsonString()));
        Assert.Equal("I plan.", string.Concat(pieces.Select(l => (string?)l["thinking"])));
        Assert.Equal("Hello", string.Concat(pieces.Select(l => (string)l["response"]!)));
        int lastThinking = pieces.FindLastIndex(l => l["thinking"] is not null);
        int firstContent = pieces.FindIndex(l => ((string)l["response"]!).Length > 0);
        Assert.True(lastThinking < firstContent);
    }

    /// <summary>Every generated token's log-probability is still reported once, whether its text was reasoning, content or a tag.</summary>
    [Fact]
    public async Task Logprobs_cover_every_token_with_thinking_on()
    {
        var (_, plain) = await server.PostAsync("/api/generate",
            new { model = "thinker", prompt = "Hi", grammar = Forced, think = false, logprobs = true, stream = false, options = Options });
        var tokens = plain!["logprobs"]!.AsArray().Select(l => (string)l!["token"]!).ToList();
        Assert.Equal("<think>I plan.</think>Hello", string.Concat(tokens));

        var (_, whole) = await server.PostAsync("/api/generate",
            new { model = "thinker", prompt = "Hi", grammar = Forced, logprobs = true, stream = false, options = Options });
        Assert.Equal(tokens, whole!["logprobs"]!.AsArray().Select(l => (string)l!["token"]!));

        var lines = await server.StreamAsync("/api/generate",
            new { model = "thinker", prompt = "Hi", grammar = Forced, logprobs = true, options = Options });
        Assert.Equal(tokens, lines.SelectMany(l => l["logprobs"]?.AsArray() ?? []).Select(l => (string)l!["token"]!));
    }

    [Fact]
    public async Task Chat_returns_the_reasoning_in_message_thinking_streamed_and_whole()
    {
        var (status, r) = await server.PostAsync("/api/chat",
            new { model = "thinker", messages = Question, grammar = Forced, think = true, stream = false, options = Options });
        Assert.Equal(200, status);
        AssertJson("""{"role":"assistant","content":"Hello","thinking":"I plan."}""", r!["message"]!);

        var lines = await server.StreamAsync("/api/chat", new { model = "thinker", messages = Question, grammar = Forced, options = Options });
        var messages = lines[..^1].Select(l => l["message"]!).ToList();
        Assert.All(messages, m => Assert.True(((string?)m["thinking"] ?? "").Length > 0 ^ ((string)m["content"]!).Length > 0, m.ToJsonString()));
        Assert.Equal("I plan.", string.Concat(messages.Select(m => (string?)m["thinking"])));
        Assert.Equal("Hello", string.Concat(messages.Select(m => (string)m["content"]!)));
        Assert.True(messages.Count(m => m["thinking"] is not null) > 1); // the reasoning streamed in pieces
    }

    [Fact]
    public async Task A_prompt_that_opens_the_tag_makes_the_output_start_inside_the_reasoning()
    {
        const string grammar = "root ::= \"I plan.</think>Hello\"";
        var (_, r) = await server.PostAsync("/api/chat",
            new { model = "thinker-open", messages = Question, grammar, stream = false, options = Options });
        AssertJson("""{"role":"assistant","content":"Hello","thinking":"I plan."}""", r!["message"]!);

        // Without thinking the template does not open the tag, and nothing is split.
        (_, r) = await server.PostAsync("/api/chat",
            new { model = "thinker-open", messages = Question, grammar, think = false, stream = false, options = Options });
        AssertJson("""{"role":"assistant","content":"I plan.</think>Hello"}""", r!["message"]!);
    }

    [Fact]
    public async Task OpenAI_chat_returns_reasoning_content_and_reasoning_streamed_and_whole()
    {
        var (status, r) = await server.PostAsync("/v1/chat/completions",
            new { model = "thinker", messages = Question, grammar = Forced, temperature = 0, reasoning_effort = "low" });
        Assert.Equal(200, status);
        AssertJson("""{"role":"assistant","content":"Hello","reasoning_content":"I plan.","reasoning":"I plan."}""", r!["choices"]![0]!["message"]!);
        Assert.Equal("stop", (string)r["choices"]![0]!["finish_reason"]!);

        using var response = await server.Client.PostAsync("/v1/chat/completions", TestServer.JsonContent(
            new { model = "thinker", messages = Question, grammar = Forced, temperature = 0, stream = true, reasoning = new { effort = "high" } }));
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var deltas = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!["delta"]!).ToList();
        Assert.Equal("assistant", (string)deltas[0]["role"]!);
        Assert.Equal("I plan.", string.Concat(deltas.Select(d => (string?)d["reasoning_content"])));
        Assert.Equal("I plan.", string.Concat(deltas.Select(d => (string?)d["reasoning"])));
        Assert.Equal("Hello", string.Concat(deltas.Select(d => (string?)d["content"])));
        Assert.DoesNotContain(deltas, d => d["content"] is not null && d["reasoning_content"] is not null);

        // "none" turns thinking off: the tags stay in the content.
        (_, r) = await server.PostAsync("/v1/chat/completions",
            new { model = "thinker", messages = Question, grammar = Forced, temperature = 0, reasoning_effort = "none" });
        AssertJson("""{"role":"assistant","content":"<think>I plan.</think>Hello"}""", r!["choices"]![0]!["message"]!);
    }

    /// <summary>An assistant turn's reasoning is rendered by the template: the prompt is exactly the expected text.</summary>
    [Fact]
    public async Task Reasoning_in_the_history_goes_into_the_template()
    {
        const string expected = "U: Hi\nA: <think>greet back</think>Hello\nU: Bye\nA: think=true level=medium";
        var (_, raw) = await server.PostAsync("/v1/completions", new { model = "thinker", prompt = expected, max_tokens = 1 });
        int tokens = (int)raw!["usage"]!["prompt_tokens"]!;
        foreach (var field in new[] { "reasoning", "reasoning_content" })
        {
            var assistant = new JsonObject { ["role"] = "assistant", ["content"] = "Hello", [field] = "greet back" };
            var body = new JsonObject
            {
                ["model"] = "thinker", ["max_tokens"] = 1,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }, assistant,
                    new JsonObject { ["role"] = "user", ["content"] = "Bye" }),
            };
            var (status, text) = await server.PostRawAsync("/v1/chat/completions", body.ToJsonString());
            Assert.Equal(200, status);
            Assert.Equal(tokens, (int)JsonNode.Parse(text)!["usage"]!["prompt_tokens"]!);
        }

        // Ollama's chat: the same prompt gives the same greedy continuation as the raw prompt.
        var options = new { temperature = 0, num_predict = 8, seed = 1 };
        var (_, direct) = await server.PostAsync("/api/generate",
            new { model = "thinker", prompt = expected, raw = true, think = false, stream = false, options });
        var (_, chat) = await server.PostAsync("/api/chat", new
        {
            model = "thinker", stream = false, options,
            messages = new object[]
            {
                new { role = "user", content = "Hi" }, new { role = "assistant", content = "Hello", thinking = "greet back" },
                new { role = "user", content = "Bye" },
            },
        });
        // The model writes no tags here, so its whole output is content.
        Assert.Equal((string)direct!["response"]!, (string)chat!["message"]!["content"]!);
        Assert.Null(chat["message"]!["thinking"]);
        Assert.Equal((int)direct["eval_count"]!, (int)chat["eval_count"]!);
    }

    /// <summary>The unmodified ollama and openai npm clients send think / reasoning_effort and read the reasoning back.</summary>
    [Fact]
    public async Task The_ollama_and_openai_clients_read_the_reasoning_unchanged()
    {
        var r = await CompatClient.RunAsync("thinking-clients.mjs", "ollama",
            new Dictionary<string, string> { ["OLLAMA_URL"] = server.BaseUrl, ["MODEL"] = "thinker" });
        AssertJson("""{"thinking":"I plan.","content":"Hello"}""", r["chat"]);
        AssertJson("""{"thinking":"I plan.","content":"Hello"}""", r["streamed"]);
        AssertJson("""{"thinking":"I plan.","response":"Hello"}""", r["generate"]);
        AssertJson("""{"message":"\"stories\" does not support thinking","status":400}""", r["refused"]);
        AssertJson("""{"reasoning":"I plan.","content":"Hello"}""", r["openai"]);
        AssertJson("""{"reasoning":"I plan.","content":"Hello"}""", r["openaiStreamed"]);
    }

    [Theory]
    [InlineData("/api/generate", "{\"model\":\"stories\",\"prompt\":\"x\",\"think\":true}")]
    [InlineData("/api/chat", "{\"model\":\"stories\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"think\":\"high\"}")]
    public async Task Asking_a_model_that_cannot_think_is_ollamas_400(string path, string body)
    {
        var (status, text) = await server.PostRawAsync(path, body);
        Assert.Equal(400, status);
        Assert.Equal("""{"error":"\"stories\" does not support thinking"}""", text);

        // think: false is fine for any model.
        var request = JsonNode.Parse(body)!.AsObject();
        request["think"] = false;
        request["stream"] = false;
        request["options"] = JsonNode.Parse("{\"num_predict\":2}");
        (status, text) = await server.PostRawAsync(path, request.ToJsonString());
        Assert.Equal(200, status);
    }

    [Theory]
    [InlineData("\"extreme\"", "invalid think value: \"extreme\" (must be \"high\", \"medium\", \"low\", \"max\", true, or false)")]
    [InlineData("5", "think must be a boolean or string (\"high\", \"medium\", \"low\", \"max\", true, or false)")]
    public async Task Malformed_think_is_400(string think, string error)
    {
        var (status, text) = await server.PostRawAsync("/api/chat",
            $"{{\"model\":\"thinker\",\"messages\":[{{\"role\":\"user\",\"content\":\"x\"}}],\"think\":{think}}}");
        Assert.Equal(400, status);
        Assert.Equal(error, (string)JsonNode.Parse(text)!["error"]!);
    }

    [Theory]
    [InlineData("{\"model\":\"stories\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"reasoning_effort\":\"high\"}",
        "\"stories\" does not support thinking", null)]
    [InlineData("{\"model\":\"thinker\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"reasoning_effort\":\"huge\"}",
        "invalid reasoning value: \"huge\" (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")", "reasoning_effort")]
    [InlineData("{\"model\":\"thinker\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"reasoning\":\"high\"}",
        "reasoning must be an object like {\"effort\": \"medium\"}", "reasoning")]
    public async Task OpenAI_reasoning_errors_are_openais_error_object(string body, string message, string? param)
    {
        var (status, text) = await server.PostRawAsync("/v1/chat/completions", body);
        Assert.Equal(400, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal(message, (string)error["message"]!);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal(param, (string?)error["param"]);
    }

    /// <summary>Compares parsed JSON (the serializer escapes &lt; and &gt;, which a text comparison would trip on).</summary>
    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual?.ToJsonString()}");
}
