using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Tests.Grammar;
using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>
/// POST /v1/responses through HTTP: the output equals the chat completion of the same conversation (text and
/// token counts), the stream's events in order with sequence numbers, function calls, text.format json_schema,
/// the stateless refusals and OpenAI's error object.
/// </summary>
[Collection("server")]
public sealed class ResponsesTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ToolTemplates.CreateModelsAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The Responses API's flat function tools: {type, name, description, parameters}.</summary>
    private static JsonArray Tools() => new(ToolTemplates.Definitions().Select(t => (JsonNode)new JsonObject
    {
        ["type"] = "function", ["name"] = t.Name, ["description"] = t.Description, ["parameters"] = JsonNode.Parse(t.Parameters!.Value.GetRawText()),
    }).ToArray());

    private async Task<List<(string Name, JsonNode Data)>> StreamAsync(object body)
    {
        using var response = await server.Client.PostAsync("/v1/responses", TestServer.JsonContent(body));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string, JsonNode)>();
        foreach (var e in (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = e.Split('\n');
            Assert.Equal(2, lines.Length);
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!;
            Assert.Equal(lines[0]["event: ".Length..], (string)data["type"]!);
            Assert.Equal(events.Count, (int)data["sequence_number"]!);
            events.Add((lines[0]["event: ".Length..], data));
        }
        return events;
    }

    [Fact]
    public async Task A_response_is_the_chat_completion_of_the_same_conversation()
    {
        var (_, chat) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", max_tokens = 12, temperature = 0,
            messages = new object[] { new { role = "system", content = "Tell a story." }, new { role = "user", content = "Once upon a time" } },
        });

        var (status, r) = await server.PostAsync("/v1/responses", new
        {
            model = "stories", instructions = "Tell a story.", max_output_tokens = 12, temperature = 0,
            input = new object[] { new { role = "user", content = new[] { new { type = "input_text", text = "Once upon a time" } } } },
        });
        Assert.Equal(200, status);
        Assert.Matches("^resp_[0-9a-f]{24}$", (string)r!["id"]!);
        Assert.Equal("response", (string)r["object"]!);
        Assert.Equal("incomplete", (string)r["status"]!);
        Assert.Equal("max_output_tokens", (string)r["incomplete_details"]!["reason"]!);
        Assert.Equal("Tell a story.", (string)r["instructions"]!);
        Assert.False((bool)r["store"]!);
        var message = Assert.Single(r["output"]!.AsArray())!;
        Assert.Equal("message", (string)message["type"]!);
        Assert.Matches("^msg_[0-9a-f]{24}$", (string)message["id"]!);
        Assert.Equal("assistant", (string)message["role"]!);
        var part = Assert.Single(message["content"]!.AsArray())!;
        Assert.Equal("output_text", (string)part["type"]!);
        Assert.Equal((string)chat!["choices"]![0]!["message"]!["content"]!, (string)part["text"]!);
        Assert.Empty(part["annotations"]!.AsArray());
        var usage = r["usage"]!;
        Assert.Equal((int)chat["usage"]!["prompt_tokens"]!, (int)usage["input_tokens"]!);
        Assert.Equal((int)chat["usage"]!["prompt_tokens"]! - 1, (int)usage["input_tokens_details"]!["cached_tokens"]!); // the chat's prompt, evaluated just before
        Assert.Equal(12, (int)usage["output_tokens"]!);
        Assert.Equal((int)usage["input_tokens"]! + 12, (int)usage["total_tokens"]!);
    }

    [Fact]
    public async Task A_response_that_ends_by_itself_is_completed()
    {
        var (created, _) = await server.PostAsync("/api/create", new { model = "stories-sentence", from = "stories", parameters = new { stop = new[] { "." } }, stream = false });
        Assert.Equal(200, created);
        var (status, r) = await server.PostAsync("/v1/responses", new { model = "stories-sentence", input = "Once upon a time", max_output_tokens = 100, temperature = 0 });
        Assert.Equal(200, status);
        Assert.Equal("completed", (string)r!["status"]!);
        Assert.Null(r["incomplete_details"]);
        Assert.Equal("completed", (string)r["output"]![0]!["status"]!);
        Assert.DoesNotContain(".", (string)r["output"]![0]!["content"]![0]!["text"]!);
    }

    [Fact]
    public async Task A_stream_sends_the_responses_events_in_order_with_the_same_text_and_counts()
    {
        var (_, whole) = await server.PostAsync("/v1/responses", new { model = "stories", input = "Once upon a time", max_output_tokens = 8, temperature = 0 });
        var events = await StreamAsync(new { model = "stories", input = "Once upon a time", max_output_tokens = 8, temperature = 0, stream = true });
        var names = events.Select(e => e.Name).ToList();
        int deltas = names.Count - 8;
        Assert.True(deltas is > 0 and <= 8, string.Join(",", names));
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            .. Enumerable.Repeat("response.output_text.delta", deltas), "response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.incomplete"], names);

        Assert.Equal("in_progress", (string)events[0].Data["response"]!["status"]!);
        Assert.Empty(events[0].Data["response"]!["output"]!.AsArray());
        string itemId = (string)events[2].Data["item"]!["id"]!;
        Assert.All(events.Skip(3).Take(deltas + 3), e => Assert.Equal(itemId, (string)e.Data["item_id"]!));
        string text = string.Concat(events.Skip(4).Take(deltas).Select(e => (string)e.Data["delta"]!));
        string expected = (string)whole!["output"]![0]!["content"]![0]!["text"]!;
        Assert.Equal(expected, text);
        Assert.Equal(expected, (string)events[^4].Data["text"]!);
        Assert.Equal(expected, (string)events[^3].Data["part"]!["text"]!);
        Assert.Equal("incomplete", (string)events[^2].Data["item"]!["status"]!);
        var final = events[^1].Data["response"]!;
        Assert.Equal((string)events[0].Data["response"]!["id"]!, (string)final["id"]!);
        Assert.Equal(itemId, (string)final["output"]![0]!["id"]!);
        Assert.Equal(8, (int)final["usage"]!["output_tokens"]!);
        Assert.Equal((int)whole["usage"]!["input_tokens"]!, (int)final["usage"]!["input_tokens"]!);
    }

    private static void AssertCall(JsonNode item, string function)
    {
        Assert.Equal("function_call", (string)item["type"]!);
        Assert.Matches("^fc_[0-9a-f]{24}$", (string)item["id"]!);
        Assert.Matches("^call_[a-z0-9]{8}$", (string)item["call_id"]!);
        Assert.Equal(function, (string)item["name"]!);
        Assert.Equal("completed", (string)item["status"]!);
        var arguments = JsonDocument.Parse((string)item["arguments"]!).RootElement;
        Assert.Null(new SchemaValidator(ToolTemplates.Schema(function)).Validate(arguments));
    }

    [Fact]
    public async Task A_forced_function_is_a_function_call_item_streamed_and_not()
    {
        var (status, r) = await server.PostAsync("/v1/responses", new
        {
            model = "qwen-tools", input = "What is the weather in Paris?", tools = Tools(), max_output_tokens = 600,
            tool_choice = new { type = "function", name = "get_weather" }, parallel_tool_calls = false,
        });
        Assert.Equal(200, status);
        Assert.Equal("completed", (string)r!["status"]!);
        AssertCall(Assert.Single(r["output"]!.AsArray())!, "get_weather");

        var events = await StreamAsync(new
        {
            model = "llama-tools", input = "Add two numbers", tools = Tools(), max_output_tokens = 600, tool_choice = "required", stream = true,
        });
        var names = events.Select(e => e.Name).ToList();
        int calls = (names.Count - 3) / 4;
        Assert.True(calls > 0, string.Join(",", names));
        Assert.Equal(["response.created", "response.in_progress",
            .. Enumerable.Range(0, calls).SelectMany(_ => new[] { "response.output_item.added", "response.function_call_arguments.delta",
                "response.function_call_arguments.done", "response.output_item.done" }), "response.completed"], names);
        for (int i = 0; i < calls; i++)
        {
            var added = events[2 + 4 * i].Data;
            Assert.Equal(i, (int)added["output_index"]!);
            Assert.Equal("", (string)added["item"]!["arguments"]!);
            var done = events[5 + 4 * i].Data["item"]!;
            AssertCall(done, (string)done["name"]!);
            Assert.Equal((string)done["arguments"]!, (string)events[3 + 4 * i].Data["delta"]!);
            Assert.Equal((string)done["arguments"]!, (string)events[4 + 4 * i].Data["arguments"]!);
        }
        Assert.Equal(calls, events[^1].Data["response"]!["output"]!.AsArray().Count);
    }

    [Fact]
    public async Task Function_call_items_and_outputs_render_the_same_prompt_as_chat_completions()
    {
        var (status, r) = await server.PostAsync("/v1/responses", new
        {
            model = "qwen-tools", max_output_tokens = 3, temperature = 0, instructions = "Be brief.", tools = Tools(),
            input = new object[]
            {
                new { type = "message", role = "user", content = "What is the weather in Paris?" },
                new { type = "function_call", call_id = "call_1", name = "get_weather", arguments = "{\"city\":\"Paris\"}" },
                new { type = "function_call_output", call_id = "call_1", output = "18 degrees" },
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
                new { role = "assistant", content = "", tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = "{\"city\":\"Paris\"}" } } } },
                new { role = "tool", tool_call_id = "call_1", content = "18 degrees" },
            },
        });
        Assert.Equal((int)chat!["usage"]!["prompt_tokens"]!, (int)r!["usage"]!["input_tokens"]!);
        Assert.Equal((string?)chat["choices"]![0]!["message"]!["content"] ?? "", (string)r["output"]![0]!["content"]![0]!["text"]!);
    }

    [Fact]
    public async Task Text_format_json_schema_gives_json_valid_for_the_schema()
    {
        var schema = JsonNode.Parse("""{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false}""")!;
        // The schema bounds the output: a name of at most 12 characters (6 each as \u escapes), an age of at most
        // 3 digits, at most 22 characters of whitespace wherever the grammar allows some (8 places): under 300
        // characters, so 400 tokens always fit it. 60 did not always (a clean-clone run ended "incomplete"): the
        // sampling follows the seed, but the logits it samples from depend on what the shared server batches beside it.
        var (status, r) = await server.PostAsync("/v1/responses", new
        {
            model = "stories", input = "Tell me about a person.", max_output_tokens = 400, seed = 3,
            text = new { format = new { type = "json_schema", name = "person", schema, strict = true } },
        });
        Assert.Equal(200, status);
        Assert.Equal("completed", (string)r!["status"]!);
        var json = JsonDocument.Parse((string)r["output"]![0]!["content"]![0]!["text"]!).RootElement;
        Assert.Null(new SchemaValidator(JsonDocument.Parse(schema.ToJsonString()).RootElement).Validate(json));
        Assert.Equal("json_schema", (string)r["text"]!["format"]!["type"]!);
    }

    [Theory]
    [InlineData("""{"model":"stories","input":"x","previous_response_id":"resp_1"}""",
        "previous_response_id is not supported: this server keeps no responses (the Responses API is stateless here): send the whole conversation as input", "previous_response_id")]
    [InlineData("""{"model":"stories","input":"x","store":true}""",
        "store must be false: this server keeps no responses (the Responses API is stateless here): send the whole conversation as input", "store")]
    [InlineData("""{"model":"stories","input":[]}""", "input must be a string or a non-empty array of input items", "input")]
    [InlineData("""{"model":"stories","input":[{"type":"item_reference","id":"msg_1"}]}""",
        "input[0].type must be \"message\", \"reasoning\", \"function_call\" or \"function_call_output\" (this server keeps no items to refer to)", "input[0].type")]
    [InlineData("""{"model":"stories","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:,"}]}]}""",
        "input[0].content[0]: only input_text and output_text parts are supported", "input[0].content[0]")]
    [InlineData("""{"model":"stories","input":[{"role":"tool","content":"x"}]}""", "input[0].role must be \"user\", \"assistant\", \"system\" or \"developer\"", "input[0].role")]
    [InlineData("""{"model":"stories","input":[{"type":"function_call","call_id":"c","name":"add","arguments":"{oops"}]}""",
        "input[0].arguments must be a string holding a JSON object", "input[0].arguments")]
    [InlineData("""{"model":"stories","input":"x","tools":[{"type":"web_search"}]}""", "tools[0].type must be \"function\" (hosted tools are not available here)", "tools[0].type")]
    [InlineData("""{"model":"qwen-tools","input":"x","tool_choice":"required"}""", "tool_choice requires tools", "tool_choice")]
    [InlineData("""{"model":"stories","input":"x","text":{"format":{"type":"yaml"}}}""",
        "text.format must be {\"type\":\"text\"}, {\"type\":\"json_object\"} or {\"type\":\"json_schema\",\"name\":\"...\",\"schema\":{...}}", "text.format")]
    [InlineData("""{"model":"stories","input":"x","max_output_tokens":0}""", "max_output_tokens must be at least 1", "max_output_tokens")]
    [InlineData("""{"model":"stories","input":"x","top_p":2}""", "top_p must be between 0 and 1", "top_p")]
    public async Task Bad_requests_get_openais_error_object(string body, string message, string param)
    {
        var (status, text) = await server.PostRawAsync("/v1/responses", body);
        Assert.Equal(400, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal(message, (string)error["message"]!);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal(param, (string)error["param"]!);
    }

    [Fact]
    public async Task A_missing_model_is_404_model_not_found()
    {
        var (status, r) = await server.PostAsync("/v1/responses", new { model = "no-such-model", input = "x" });
        Assert.Equal(404, status);
        Assert.Equal("model_not_found", (string)r!["error"]!["code"]!);
    }
}
