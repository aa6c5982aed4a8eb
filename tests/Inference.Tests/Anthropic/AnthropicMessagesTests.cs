using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Tests.Grammar;
using Inference.Tests.Support;

namespace Inference.Tests.Anthropic;

/// <summary>
/// POST /v1/messages through HTTP: the reply equals the chat completion of the same conversation (text and
/// token counts), the stream's events in Anthropic's order, each stop_reason, tool use and Anthropic's error object.
/// </summary>
[Collection("server")]
public sealed class AnthropicMessagesTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ToolTemplates.CreateModelsAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly object[] Story = [new { role = "user", content = "Once upon a time" }];

    /// <summary>Anthropic's tools: ToolTemplates' functions as {name, description, input_schema}.</summary>
    private static JsonArray Tools() => new(ToolTemplates.Definitions().Select(t => (JsonNode)new JsonObject
    {
        ["name"] = t.Name, ["description"] = t.Description, ["input_schema"] = JsonNode.Parse(t.Parameters!.Value.GetRawText()),
    }).ToArray());

    private async Task<(int Status, JsonNode? Body)> PostAsync(object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = TestServer.JsonContent(body) };
        // What the Anthropic SDKs send: accepted, and not needed.
        request.Headers.Add("x-api-key", "unused");
        request.Headers.Add("anthropic-version", "2023-06-01");
        using var response = await server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text));
    }

    /// <summary>The stream as (event name, data) pairs; every event's data names its own type.</summary>
    private Task<List<(string Name, JsonNode Data)>> StreamAsync(object body) => SseEvents.ReadAsync(server, "/v1/messages", body);

    [Fact]
    public async Task A_message_is_the_chat_completion_of_the_same_conversation()
    {
        var (status, r) = await PostAsync(new { model = "stories", max_tokens = 12, temperature = 0, system = "Tell a story.", messages = Story });
        Assert.Equal(200, status);
        var (chatStatus, chat) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", max_tokens = 12, temperature = 0,
            messages = new object[] { new { role = "system", content = "Tell a story." }, Story[0] },
        });
        Assert.Equal(200, chatStatus);

        Assert.Matches("^msg_[0-9a-f]{24}$", (string)r!["id"]!);
        Assert.Equal("message", (string)r["type"]!);
        Assert.Equal("assistant", (string)r["role"]!);
        Assert.Equal("stories", (string)r["model"]!);
        var block = Assert.Single(r["content"]!.AsArray())!;
        Assert.Equal("text", (string)block["type"]!);
        Assert.Equal((string)chat!["choices"]![0]!["message"]!["content"]!, (string)block["text"]!);
        Assert.Equal("max_tokens", (string)r["stop_reason"]!);
        Assert.True(r.AsObject().ContainsKey("stop_sequence") && r["stop_sequence"] is null);
        Assert.Equal((int)chat["usage"]!["prompt_tokens"]!, (int)r["usage"]!["input_tokens"]!);
        Assert.Equal(12, (int)r["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task A_stream_sends_anthropics_events_in_order_with_the_same_text_and_counts()
    {
        var body = new { model = "stories", max_tokens = 10, temperature = 0, messages = Story };
        var (_, whole) = await PostAsync(body);
        var events = await StreamAsync(new { model = "stories", max_tokens = 10, temperature = 0, messages = Story, stream = true });

        var names = events.Select(e => e.Name).ToList();
        int deltas = names.Count - 5;
        Assert.True(deltas is > 0 and <= 10, string.Join(",", names));
        Assert.Equal(["message_start", "content_block_start", .. Enumerable.Repeat("content_block_delta", deltas),
            "content_block_stop", "message_delta", "message_stop"], names);

        var start = events[0].Data["message"]!;
        Assert.Matches("^msg_[0-9a-f]{24}$", (string)start["id"]!);
        Assert.Empty(start["content"]!.AsArray());
        Assert.Null(start["stop_reason"]);
        Assert.Equal((int)whole!["usage"]!["input_tokens"]!, (int)start["usage"]!["input_tokens"]!);
        Assert.Equal(0, (int)events[1].Data["index"]!);
        Assert.Equal("""{"type":"text","text":""}""", events[1].Data["content_block"]!.ToJsonString());
        Assert.All(events.Skip(2).Take(deltas), e => Assert.Equal("text_delta", (string)e.Data["delta"]!["type"]!));
        Assert.Equal((string)whole["content"]![0]!["text"]!, string.Concat(events.Skip(2).Take(deltas).Select(e => (string)e.Data["delta"]!["text"]!)));
        Assert.Equal(0, (int)events[^3].Data["index"]!);
        var stop = events[^2].Data;
        Assert.Equal("""{"stop_reason":"max_tokens","stop_sequence":null}""", stop["delta"]!.ToJsonString());
        Assert.Equal(10, (int)stop["usage"]!["output_tokens"]!);
        Assert.Equal((int)whole["usage"]!["input_tokens"]!, (int)stop["usage"]!["input_tokens"]!);
    }

    [Fact]
    public async Task A_stop_sequence_cuts_the_text_and_is_named_in_stop_reason()
    {
        var (_, full) = await PostAsync(new { model = "stories", max_tokens = 30, temperature = 0, messages = Story });
        string text = (string)full!["content"]![0]!["text"]!;
        string stopAt = text.Substring(20, 5);
        string expected = text[..text.IndexOf(stopAt, StringComparison.Ordinal)];

        var (status, r) = await PostAsync(new { model = "stories", max_tokens = 30, temperature = 0, messages = Story, stop_sequences = new[] { "zzzz", stopAt } });
        Assert.Equal(200, status);
        Assert.Equal(expected, (string)r!["content"]![0]!["text"]!);
        Assert.Equal("stop_sequence", (string)r["stop_reason"]!);
        Assert.Equal(stopAt, (string)r["stop_sequence"]!);
        Assert.True((int)r["usage"]!["output_tokens"]! < 30);

        var events = await StreamAsync(new { model = "stories", max_tokens = 30, temperature = 0, messages = Story, stop_sequences = new[] { stopAt }, stream = true });
        Assert.Equal($$"""{"stop_reason":"stop_sequence","stop_sequence":{{JsonSerializer.Serialize(stopAt)}}}""", events[^2].Data["delta"]!.ToJsonString());
    }

    [Fact]
    public async Task A_stop_of_the_model_itself_is_end_turn()
    {
        // The model's own stop parameter ends the turn; it is not one of the request's stop_sequences.
        var (created, _) = await server.PostAsync("/api/create", new { model = "stories-sentence", from = "stories", parameters = new { stop = new[] { "." } }, stream = false });
        Assert.Equal(200, created);
        var (status, r) = await PostAsync(new { model = "stories-sentence", max_tokens = 100, temperature = 0, messages = Story });
        Assert.Equal(200, status);
        Assert.Equal("end_turn", (string)r!["stop_reason"]!);
        Assert.Null(r["stop_sequence"]);
        Assert.DoesNotContain(".", (string)r["content"]![0]!["text"]!);
        Assert.True((int)r["usage"]!["output_tokens"]! < 100);
    }

    private static void AssertToolUse(JsonNode block, string function)
    {
        Assert.Equal("tool_use", (string)block["type"]!);
        Assert.Matches("^toolu_[a-z0-9]{8}$", (string)block["id"]!);
        Assert.Equal(function, (string)block["name"]!);
        var input = JsonDocument.Parse(block["input"]!.ToJsonString()).RootElement;
        Assert.Equal(JsonValueKind.Object, input.ValueKind);
        Assert.Null(new SchemaValidator(ToolTemplates.Schema(function)).Validate(input));
    }

    [Fact]
    public async Task A_forced_tool_is_a_tool_use_block_and_stop_reason_tool_use()
    {
        var (status, r) = await PostAsync(new
        {
            model = "qwen-tools", max_tokens = 600, messages = new[] { new { role = "user", content = "What is the weather in Paris?" } },
            tools = Tools(), tool_choice = new { type = "tool", name = "get_weather", disable_parallel_tool_use = true },
        });
        Assert.Equal(200, status);
        Assert.Equal("tool_use", (string)r!["stop_reason"]!);
        AssertToolUse(Assert.Single(r["content"]!.AsArray())!, "get_weather");

        var events = await StreamAsync(new
        {
            model = "llama-tools", max_tokens = 600, stream = true, messages = new[] { new { role = "user", content = "Add two numbers" } },
            tools = Tools(), tool_choice = new { type = "any" },
        });
        Assert.Equal("message_start", events[0].Name);
        var starts = events.Where(e => e.Name == "content_block_start").ToList();
        Assert.NotEmpty(starts);
        for (int i = 0; i < starts.Count; i++)
        {
            int at = events.IndexOf(starts[i]);
            var block = starts[i].Data["content_block"]!;
            Assert.Equal(i, (int)starts[i].Data["index"]!);
            Assert.Equal("{}", block["input"]!.ToJsonString());
            Assert.Equal("content_block_delta", events[at + 1].Name);
            Assert.Equal("input_json_delta", (string)events[at + 1].Data["delta"]!["type"]!);
            block["input"] = JsonNode.Parse((string)events[at + 1].Data["delta"]!["partial_json"]!);
            AssertToolUse(block, (string)block["name"]!);
            Assert.Equal("content_block_stop", events[at + 2].Name);
            Assert.Equal(i, (int)events[at + 2].Data["index"]!);
        }
        Assert.Equal("tool_use", (string)events[^2].Data["delta"]!["stop_reason"]!);
        Assert.Equal("message_stop", events[^1].Name);
    }

    [Fact]
    public async Task A_tool_result_conversation_is_the_same_prompt_as_on_chat_completions()
    {
        var (status, r) = await PostAsync(new
        {
            model = "qwen-tools", max_tokens = 3, temperature = 0, system = "Be brief.", tools = Tools(),
            messages = new object[]
            {
                new { role = "user", content = "What is the weather in Paris?" },
                new { role = "assistant", content = new object[]
                {
                    new { type = "text", text = "Let me look." },
                    new { type = "tool_use", id = "toolu_1", name = "get_weather", input = new { city = "Paris" } },
                } },
                new { role = "user", content = new object[] { new { type = "tool_result", tool_use_id = "toolu_1", content = "18 degrees" } } },
            },
        });
        Assert.Equal(200, status);
        var (_, chat) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "qwen-tools", max_tokens = 3, temperature = 0, tools = JsonNode.Parse(ToolTemplates.ToolsJson),
            messages = new object[]
            {
                new { role = "system", content = "Be brief." },
                new { role = "user", content = "What is the weather in Paris?" },
                new { role = "assistant", content = "Let me look.", tool_calls = new[] { new { id = "toolu_1", type = "function", function = new { name = "get_weather", arguments = "{\"city\":\"Paris\"}" } } } },
                new { role = "tool", tool_call_id = "toolu_1", content = "18 degrees" },
            },
        });
        Assert.Equal((int)chat!["usage"]!["prompt_tokens"]!, (int)r!["usage"]!["input_tokens"]!);
        Assert.Equal((string?)chat["choices"]![0]!["message"]!["content"] ?? "", (string)r["content"]![0]!["text"]!);
    }

    [Theory]
    [InlineData("""{"model":"stories","messages":[{"role":"user","content":"x"}]}""", "max_tokens: Field required")]
    [InlineData("""{"model":"stories","max_tokens":0,"messages":[{"role":"user","content":"x"}]}""", "max_tokens: must be at least 1")]
    [InlineData("""{"model":"stories","max_tokens":5,"messages":[]}""", "messages: must be a non-empty array")]
    [InlineData("""{"model":"stories","max_tokens":5,"messages":[{"role":"system","content":"x"}]}""", "messages[0].role: must be \"user\" or \"assistant\"")]
    [InlineData("""{"model":"stories","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}]}""",
        "messages[0].content[0]: only text blocks, tool_use and thinking blocks (assistant) and tool_result blocks (user) are supported")]
    [InlineData("""{"model":"stories","max_tokens":5,"system":7,"messages":[{"role":"user","content":"x"}]}""", "system: must be a string or an array of text blocks")]
    [InlineData("""{"model":"stories","max_tokens":5,"temperature":-1,"messages":[{"role":"user","content":"x"}]}""", "temperature: must be a finite number, 0 or more")]
    [InlineData("""{"model":"stories","max_tokens":5,"stop_sequences":"x","messages":[{"role":"user","content":"x"}]}""", "invalid request: field 'stop_sequences' has the wrong type")]
    [InlineData("""{"model":"qwen-tools","max_tokens":5,"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"x"}]}""", "tool_choice: requires tools")]
    [InlineData("""{"model":"qwen-tools","max_tokens":5,"tools":[{"name":"get weather","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"x"}]}""",
        "tools[0].name must be 1 to 64 letters, digits, underscores, dots, colons or dashes")]
    [InlineData("""{"model":"qwen-tools","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"x"}]}""",
        "tools[0].type: only custom tools (name, description, input_schema) are supported")]
    [InlineData("""{"model":"qwen-tools","max_tokens":5,"tools":[{"name":"a","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"b"},"messages":[{"role":"user","content":"x"}]}""",
        "tool_choice: names the tool 'b', which is not in tools")]
    [InlineData("""{"model":"stories","max_tokens":5,"tools":[{"name":"a","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"x"}]}""",
        "registry.ollama.ai/library/stories:latest does not support tools")]
    [InlineData("""{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", "model: Field required")]
    [InlineData("""{"model":"stories","max_tokens":5,""", "invalid JSON: Expected start of a property name or value, but instead reached end of data.")]
    public async Task Bad_requests_get_anthropics_error_object(string body, string message)
    {
        var (status, text) = await server.PostRawAsync("/v1/messages", body);
        Assert.Equal(400, status);
        var error = JsonNode.Parse(text)!;
        Assert.Equal("error", (string)error["type"]!);
        Assert.Equal("invalid_request_error", (string)error["error"]!["type"]!);
        Assert.Equal(message, (string)error["error"]!["message"]!);
    }

    [Fact]
    public async Task A_missing_model_is_404_not_found_error()
    {
        var (status, text) = await server.PostRawAsync("/v1/messages", """{"model":"no-such-model","max_tokens":5,"messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(404, status);
        Assert.Equal("""{"type":"error","error":{"type":"not_found_error","message":"model \"no-such-model\" not found, try pulling it first"}}""", text);
    }
}
