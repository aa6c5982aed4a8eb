using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Tests.Grammar;
using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>
/// /v1/chat/completions with tools: tool_choice "required" or a named function forces a call, which the grammar
/// makes valid even on the tiny models (a known function, arguments valid for its schema), streamed and not.
/// </summary>
[Collection("server")]
public sealed class OpenAIToolCallTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ToolTemplates.CreateModelsAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    private static JsonNode Tools() => JsonNode.Parse(ToolTemplates.ToolsJson)!;

    private static readonly object[] Question = [new { role = "user", content = "What is the weather in Paris?" }];

    private static void AssertValidCall(JsonNode call, string? only = null)
    {
        Assert.Matches("^call_[a-z0-9]{8}$", (string)call["id"]!);
        Assert.Equal("function", (string)call["type"]!);
        string name = (string)call["function"]!["name"]!;
        string[] allowed = only is null ? ["get_weather", "add"] : [only];
        Assert.Contains(name, allowed);
        // Arguments are JSON text that parses into an object valid for the function's schema.
        var arguments = JsonDocument.Parse((string)call["function"]!["arguments"]!).RootElement;
        Assert.Equal(JsonValueKind.Object, arguments.ValueKind);
        Assert.Null(new SchemaValidator(ToolTemplates.Schema(name)).Validate(arguments));
    }

    [Theory]
    [InlineData("qwen-tools", 1)]
    [InlineData("qwen-tools", 2)]
    [InlineData("llama-tools", 3)]
    public async Task A_required_call_is_a_valid_call_of_a_known_function(string model, int seed)
    {
        var (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model, messages = Question, tools = Tools(), tool_choice = "required", seed, max_tokens = 600,
        });
        Assert.Equal(200, status);
        var choice = r!["choices"]![0]!;
        Assert.Equal("tool_calls", (string)choice["finish_reason"]!);
        var message = choice["message"]!.AsObject();
        Assert.Equal("assistant", (string)message["role"]!);
        Assert.True(message.ContainsKey("content") && message["content"] is null, "content is null when the reply is only calls");
        var calls = message["tool_calls"]!.AsArray();
        Assert.NotEmpty(calls);
        Assert.All(calls, c => AssertValidCall(c!));
        Assert.All(calls, c => Assert.Null(c!["index"]));
    }

    [Fact]
    public async Task A_named_function_and_no_parallel_calls_give_exactly_that_one_call()
    {
        var (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "llama-tools", messages = Question, tools = Tools(), seed = 5, max_tokens = 600,
            tool_choice = new { type = "function", function = new { name = "add" } }, parallel_tool_calls = false,
        });
        Assert.Equal(200, status);
        AssertValidCall(Assert.Single(r!["choices"]![0]!["message"]!["tool_calls"]!.AsArray())!, only: "add");
    }

    [Fact]
    public async Task A_streamed_call_comes_as_tool_call_deltas_and_finishes_with_tool_calls()
    {
        var body = new
        {
            model = "qwen-tools", messages = Question, tools = Tools(), seed = 7, max_tokens = 600, stream = true,
            tool_choice = new { type = "function", function = new { name = "get_weather" } },
        };
        using var response = await server.Client.PostAsync("/v1/chat/completions", TestServer.JsonContent(body));
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var deltas = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!).ToList();
        Assert.Equal("assistant", (string)deltas[0]["delta"]!["role"]!);
        Assert.All(deltas, d => Assert.True(string.IsNullOrEmpty((string?)d["delta"]!["content"]), "no text besides the calls"));
        var calls = deltas.SelectMany(d => d["delta"]!["tool_calls"]?.AsArray() ?? []).ToList();
        Assert.NotEmpty(calls);
        for (int i = 0; i < calls.Count; i++)
        {
            Assert.Equal(i, (int)calls[i]!["index"]!);
            AssertValidCall(calls[i]!, only: "get_weather");
        }
        Assert.Equal("tool_calls", (string)deltas[^1]["finish_reason"]!);
    }

    [Fact]
    public async Task Tool_choice_none_leaves_the_tools_out()
    {
        // Even a model without tool support answers: with "none" the tools are not used at all.
        var (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", messages = Question, tools = Tools(), tool_choice = "none", max_tokens = 5,
        });
        Assert.Equal(200, status);
        Assert.Null(r!["choices"]![0]!["message"]!["tool_calls"]);
        Assert.Equal("length", (string)r["choices"]![0]!["finish_reason"]!);
    }

    [Fact]
    public async Task A_model_without_a_tools_template_is_refused_in_openais_error_shape()
    {
        var (status, r) = await server.PostAsync("/v1/chat/completions", new { model = "stories", messages = Question, tools = Tools() });
        Assert.Equal(400, status);
        Assert.Equal("registry.ollama.ai/library/stories:latest does not support tools", (string)r!["error"]!["message"]!);
        Assert.Equal("invalid_request_error", (string)r["error"]!["type"]!);
    }

    [Theory]
    [InlineData("\"tool_choice\":\"sometimes\"", "tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": \"...\"}}", "tool_choice")]
    [InlineData("\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"rm_rf\"}}", "tool_choice names the function 'rm_rf', which is not in tools", "tool_choice")]
    [InlineData("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get weather\"}}]", "tools[0].function.name must be 1 to 64 letters, digits, underscores, dots, colons or dashes", "tools[0].function.name")]
    [InlineData("\"tools\":\"all\"", "tools must be an array of tool objects", "tools")]
    public async Task Malformed_tool_fields_are_400(string field, string message, string param)
    {
        var body = $$"""{"model":"qwen-tools","messages":[{"role":"user","content":"x"}],"tools":{{ToolTemplates.ToolsJson}},{{field}}}""";
        await AssertBadRequest(body, message, param);
    }

    [Fact]
    public async Task Malformed_tool_messages_are_400()
    {
        await AssertBadRequest("""{"model":"qwen-tools","messages":[{"role":"user","content":"x"}],"tool_choice":"required"}""",
            "tool_choice requires tools", "tool_choice");
        await AssertBadRequest("""{"model":"qwen-tools","messages":[{"role":"tool","content":"18"}]}""",
            "messages[0].tool_call_id is required for tool messages", "messages[0].tool_call_id");
        await AssertBadRequest("""{"model":"qwen-tools","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"add","arguments":"{oops"}}]}]}""",
            "messages[0].tool_calls[0].function.arguments must be a JSON object (or a string holding one)", "messages[0].tool_calls[0].function.arguments");
    }

    private async Task AssertBadRequest(string body, string message, string param)
    {
        var (status, text) = await server.PostRawAsync("/v1/chat/completions", body);
        Assert.Equal(400, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal(message, (string)error["message"]!);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal(param, (string)error["param"]!);
    }

    /// <summary>
    /// OpenAI's message fields (assistant tool_calls with JSON-text arguments, a tool message naming the call by
    /// tool_call_id) render into exactly the prompt <see cref="Prompting.ToolRenderingTests"/> expects: the same
    /// prompt token count and greedy output as that prompt sent as a raw completion.
    /// </summary>
    [Fact]
    public async Task Tool_calls_and_results_in_messages_are_rendered_into_the_prompt()
    {
        var (status, chat) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "qwen-tools", tools = Tools(), temperature = 0, max_tokens = 12,
            messages = new object[]
            {
                Question[0],
                new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = "{\"city\": \"Paris\"}" } } } },
                new { role = "tool", content = "18 degrees", tool_call_id = "call_1" },
            },
        });
        Assert.Equal(200, status);
        var (_, raw) = await server.PostAsync("/v1/completions", new { model = "qwen-tools", prompt = Prompting.ToolRenderingTests.ExpectedQwenPrompt, temperature = 0, max_tokens = 12 });
        Assert.Equal((int)raw!["usage"]!["prompt_tokens"]!, (int)chat!["usage"]!["prompt_tokens"]!);
        Assert.Equal((string)raw["choices"]![0]!["text"]!, (string)chat["choices"]![0]!["message"]!["content"]!);
    }
}
