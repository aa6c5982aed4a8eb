using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Engine.Models;
using Inference.Tests.Grammar;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// /api/chat with tools, on models created with a tools-aware template (the test GGUFs have none):
/// capability checks, request validation, calls in responses (streamed and not), and the rendered prompt.
/// </summary>
[Collection("server")]
public sealed class ToolCallingTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ToolTemplates.CreateModelsAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    private static JsonNode Tools() => JsonNode.Parse(ToolTemplates.ToolsJson)!;

    private static readonly object[] Question = [new { role = "user", content = "What is the weather in Paris?" }];

    [Fact]
    public async Task A_model_whose_template_has_no_tools_refuses_them()
    {
        var (status, r) = await server.PostAsync("/api/chat", new { model = "stories", messages = Question, tools = Tools(), stream = false });
        Assert.Equal(400, status);
        Assert.Equal("registry.ollama.ai/library/stories:latest does not support tools", (string)r!["error"]!);

        var show = (await server.PostAsync("/api/show", new { model = "qwen-tools" })).Body!;
        Assert.Equal(["completion", "tools"], show["capabilities"]!.AsArray().Select(c => (string)c!));
        show = (await server.PostAsync("/api/show", new { model = "stories" })).Body!;
        Assert.DoesNotContain("tools", show["capabilities"]!.AsArray().Select(c => (string)c!));
    }

    [Theory]
    [InlineData("{\"tools\":{}}", "tools must be an array of tool objects")]
    [InlineData("{\"tools\":[{\"type\":\"function\"}]}", "tools[0].function must be an object")]
    [InlineData("{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]}", "tools[0].function.name must be a non-empty string")]
    [InlineData("{\"tools\":[{\"type\":\"retrieval\",\"function\":{\"name\":\"f\"}}]}", "tools[0].type must be \"function\"")]
    [InlineData("{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]}", "tools[0].function.parameters must be a JSON Schema object")]
    [InlineData("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":7}}]}]}", "messages[0].tool_calls[0].function.arguments must be a JSON object (or a string holding one)")]
    public async Task Malformed_tools_are_400(string fields, string error)
    {
        var body = JsonNode.Parse(fields)!.AsObject();
        body["model"] = "qwen-tools";
        body["stream"] = false;
        if (!body.ContainsKey("messages")) body["messages"] = JsonNode.Parse("[{\"role\":\"user\",\"content\":\"x\"}]");
        var (status, text) = await server.PostRawAsync("/api/chat", body.ToJsonString());
        Assert.Equal(400, status);
        Assert.Equal(error, (string)JsonNode.Parse(text)!["error"]!);
    }

    /// <summary>
    /// Ollama reads calls out of whatever the model writes, including format-constrained output: a format
    /// that spells a get_weather call makes the random-weights model "call" it, deterministically.
    /// </summary>
    private static object CallFormat() => new JsonObject
    {
        ["type"] = "object",
        ["required"] = new JsonArray("name", "parameters"),
        ["additionalProperties"] = false,
        ["properties"] = new JsonObject
        {
            ["name"] = new JsonObject { ["const"] = "get_weather" },
            ["parameters"] = JsonNode.Parse(ToolTemplates.Schema("get_weather").GetRawText()),
        },
    };

    private static void AssertWeatherCall(JsonNode call, int index)
    {
        Assert.Matches("^call_[a-z0-9]{8}$", (string)call["id"]!);
        Assert.Equal(index, (int)call["function"]!["index"]!);
        Assert.Equal("get_weather", (string)call["function"]!["name"]!);
        var arguments = JsonSerializer.Deserialize<JsonElement>(call["function"]!["arguments"]!.ToJsonString());
        Assert.Equal(JsonValueKind.Object, arguments.ValueKind);
        Assert.Null(new SchemaValidator(ToolTemplates.Schema("get_weather")).Validate(arguments));
    }

    [Fact]
    public async Task A_call_in_the_output_is_returned_as_tool_calls()
    {
        var (status, r) = await server.PostAsync("/api/chat", new
        {
            model = "llama-tools", messages = Question, tools = Tools(), format = CallFormat(), stream = false,
            options = new { seed = 3, num_predict = 400 },
        });
        Assert.Equal(200, status);
        Assert.Equal("stop", (string)r!["done_reason"]!);
        Assert.Equal("assistant", (string)r["message"]!["role"]!);
        Assert.Equal("", (string)r["message"]!["content"]!);
        AssertWeatherCall(Assert.Single(r["message"]!["tool_calls"]!.AsArray())!, 0);
    }

    [Fact]
    public async Task A_streamed_call_comes_in_a_chunk_of_its_own_and_no_text_leaks()
    {
        var lines = await server.StreamAsync("/api/chat", new
        {
            model = "llama-tools", messages = Question, tools = Tools(), format = CallFormat(), options = new { seed = 4, num_predict = 400 },
            logprobs = true,
        });
        Assert.True((bool)lines[^1]["done"]!);
        // Tokens held back while they could be a call still have their log-probabilities sent.
        Assert.Equal((int)lines[^1]["eval_count"]!, lines.Sum(l => l["logprobs"]?.AsArray().Count ?? 0));
        Assert.All(lines, l => Assert.Equal("", (string)l["message"]!["content"]!));
        var withCalls = Assert.Single(lines, l => l["message"]!["tool_calls"] is not null);
        AssertWeatherCall(Assert.Single(withCalls["message"]!["tool_calls"]!.AsArray())!, 0);
    }

    [Fact]
    public async Task Free_to_answer_the_model_may_answer_in_text_and_the_grammar_is_then_dropped()
    {
        var stats = () => server.Get<ModelManager>().AllStats.Single(s => s.Model == "qwen-tools:latest").GrammarsReleased;
        await server.PostAsync("/api/chat", new { model = "qwen-tools", messages = Question, stream = false, options = new { num_predict = 1 } });
        long before = stats();
        var (status, r) = await server.PostAsync("/api/chat", new
        {
            model = "qwen-tools", messages = Question, tools = Tools(), stream = false, options = new { seed = 1, num_predict = 24 },
        });
        Assert.Equal(200, status);
        Assert.Null(r!["message"]!["tool_calls"]);
        Assert.NotEqual("", (string)r["message"]!["content"]!);
        Assert.Equal(before + 1, stats());
    }

    /// <summary>
    /// Ollama's message fields (tool_calls with an arguments object, tool_name) render into exactly the prompt
    /// <see cref="Prompting.ToolRenderingTests"/> expects: greedy output equals that of the same prompt sent raw.
    /// </summary>
    [Fact]
    public async Task Tool_calls_and_results_in_messages_are_rendered_into_the_prompt()
    {
        var options = new { temperature = 0, num_predict = 12 };
        var (status, chat) = await server.PostAsync("/api/chat", new
        {
            model = "qwen-tools", tools = Tools(), stream = false, options,
            messages = new object[]
            {
                Question[0],
                new { role = "assistant", content = "", tool_calls = new[] { new { function = new { name = "get_weather", arguments = new { city = "Paris" } } } } },
                new { role = "tool", content = "18 degrees", tool_name = "get_weather" },
            },
        });
        Assert.Equal(200, status);
        var (_, raw) = await server.PostAsync("/api/generate", new { model = "qwen-tools", prompt = Prompting.ToolRenderingTests.ExpectedQwenPrompt, raw = true, stream = false, options });
        Assert.Equal((string)raw!["response"]!, (string)chat!["message"]!["content"]!);
    }
}
