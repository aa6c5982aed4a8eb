using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>
/// reasoning on POST /v1/responses through HTTP with <see cref="ReasonerModel"/>: reasoning.effort maps to think
/// as Ollama maps it; the reasoning is a reasoning item (summary_text, and encrypted_content as Ollama sends it)
/// before the message, equal to /api/chat's message.thinking; streamed with the reasoning summary events; reasoning
/// input items reach the template as the next assistant turn's reasoning; a model that cannot think gets the 400.
/// </summary>
[Collection("server")]
public sealed class ResponsesReasoningTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ReasonerModel.CreateAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    private const int MaxTokens = 40;

    private async Task<JsonNode> ChatAsync(object think, object[]? messages = null)
    {
        var (status, chat) = await server.PostAsync("/api/chat", new
        {
            model = ReasonerModel.Name, messages = messages ?? [new { role = "user", content = "Hi" }], think, stream = false,
            options = new { temperature = 0, num_predict = MaxTokens },
        });
        Assert.Equal(200, status);
        return chat!;
    }

    /// <summary>
    /// The whole prompt's token count for a conversation, from /v1/chat/completions (its usage counts tokens reused
    /// from the prefix cache; /api/chat's prompt_eval_count does not). An assistant turn's reasoning goes in "reasoning".
    /// </summary>
    private async Task<int> PromptTokensAsync(object[] messages, object? reasoning = null)
    {
        var (status, chat) = await server.PostAsync("/v1/chat/completions", new
        {
            model = ReasonerModel.Name, messages, max_tokens = 1, temperature = 0, reasoning = reasoning ?? new { effort = "medium" },
        });
        Assert.Equal(200, status);
        return (int)chat!["usage"]!["prompt_tokens"]!;
    }

    [Fact]
    public async Task Reasoning_is_a_reasoning_item_before_the_message_equal_to_ollamas_chat()
    {
        var chat = await ChatAsync("low");
        string thinking = (string)chat["message"]!["thinking"]!, text = (string)chat["message"]!["content"]!;
        Assert.NotEqual("", thinking);
        Assert.NotEqual("", text);

        var (status, r) = await server.PostAsync("/v1/responses", new
        {
            model = ReasonerModel.Name, input = "Hi", max_output_tokens = MaxTokens, temperature = 0, reasoning = new { effort = "minimal" },
        });
        Assert.Equal(200, status);
        var output = r!["output"]!.AsArray();
        Assert.Equal(2, output.Count);
        Assert.Matches("^rs_[0-9a-f]{24}$", (string)output[0]!["id"]!);
        Assert.Equal(
            new JsonObject
            {
                ["type"] = "reasoning", ["id"] = (string)output[0]!["id"]!,
                ["summary"] = new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = thinking }), ["encrypted_content"] = thinking,
            }.ToJsonString(),
            output[0]!.ToJsonString());
        Assert.Equal("message", (string)output[1]!["type"]!);
        Assert.Equal(text, (string)output[1]!["content"]![0]!["text"]!);
        Assert.Equal("""{"effort":"minimal"}""", r["reasoning"]!.ToJsonString());
        Assert.Equal((int)chat["eval_count"]!, (int)r["usage"]!["output_tokens"]!);
        Assert.Equal(await PromptTokensAsync([new { role = "user", content = "Hi" }]), (int)r["usage"]!["input_tokens"]!);

        // effort "none" turns thinking off: one message holding the output as /api/chat gives it with think: false.
        var plain = await ChatAsync(false);
        (status, r) = await server.PostAsync("/v1/responses", new
        {
            model = ReasonerModel.Name, input = "Hi", max_output_tokens = MaxTokens, temperature = 0, reasoning = new { effort = "none" },
        });
        Assert.Equal(200, status);
        var message = Assert.Single(r!["output"]!.AsArray())!;
        Assert.Equal((string)plain["message"]!["content"]!, (string)message["content"]![0]!["text"]!);
    }

    [Fact]
    public async Task The_stream_sends_the_reasoning_item_and_its_summary_events_before_the_message()
    {
        var chat = await ChatAsync(true);
        var events = await SseEvents.ReadAsync(server, "/v1/responses", new
        {
            model = ReasonerModel.Name, input = "Hi", max_output_tokens = MaxTokens, temperature = 0, stream = true, reasoning = new { effort = "medium" },
        });
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e.Data["sequence_number"]!));
        var names = events.Select(e => e.Name).ToList();
        var order = names.Where((n, i) => i == 0 || n != names[i - 1]).ToList();
        Assert.Equal([
            "response.created", "response.in_progress",
            "response.output_item.added", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done",
            "response.content_part.done", "response.output_item.done", "response.incomplete",
        ], order);
        string thinking = (string)chat["message"]!["thinking"]!;
        var reasoningId = (string)events[2].Data["item"]!["id"]!;
        Assert.Equal($$"""{"type":"reasoning","id":"{{reasoningId}}","summary":[]}""", events[2].Data["item"]!.ToJsonString());
        var deltas = events.Where(e => e.Name == "response.reasoning_summary_text.delta").ToList();
        Assert.All(deltas, d => Assert.Equal(reasoningId, (string)d.Data["item_id"]!));
        Assert.All(deltas, d => Assert.Equal(0, (int)d.Data["output_index"]!));
        Assert.All(deltas, d => Assert.Equal(0, (int)d.Data["summary_index"]!));
        Assert.Equal(thinking, string.Concat(deltas.Select(d => (string)d.Data["delta"]!)));
        Assert.Equal(thinking, (string)events.Single(e => e.Name == "response.reasoning_summary_text.done").Data["text"]!);
        Assert.Equal((string)chat["message"]!["content"]!,
            string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => (string)e.Data["delta"]!)));
        Assert.All(events.Where(e => e.Name == "response.output_text.delta"), d => Assert.Equal(1, (int)d.Data["output_index"]!));

        // The final response holds the same two items as the whole (non-streamed) response.
        var final = events[^1].Data["response"]!["output"]!.AsArray();
        Assert.Equal(["reasoning", "message"], final.Select(i => (string)i!["type"]!));
        Assert.Equal(thinking, (string)final[0]!["summary"]![0]!["text"]!);
        Assert.Equal((int)chat["eval_count"]!, (int)events[^1].Data["response"]!["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Reasoning_input_items_become_the_next_assistant_turns_reasoning()
    {
        int withReasoning = await PromptTokensAsync([
            new { role = "user", content = "Hi" }, new { role = "assistant", content = "Hello", reasoning = "I plan" },
            new { role = "user", content = "And then?" },
        ]);
        int without = await PromptTokensAsync([
            new { role = "user", content = "Hi" }, new { role = "assistant", content = "Hello" }, new { role = "user", content = "And then?" },
        ]);
        // As the Responses API sends history back: the reasoning item, then the assistant message it belongs to.
        foreach (var reasoning in new object[]
        {
            new { type = "reasoning", id = "rs_1", summary = new[] { new { type = "summary_text", text = "I plan" } } },
            new { type = "reasoning", id = "rs_1", summary = Array.Empty<object>(), encrypted_content = "I plan" },
        })
        {
            var (status, r) = await server.PostAsync("/v1/responses", new
            {
                model = ReasonerModel.Name, max_output_tokens = MaxTokens, temperature = 0,
                input = new object[]
                {
                    new { role = "user", content = "Hi" }, reasoning,
                    new { type = "message", role = "assistant", content = new[] { new { type = "output_text", text = "Hello" } } },
                    new { role = "user", content = "And then?" },
                },
            });
            Assert.Equal(200, status);
            Assert.Equal(withReasoning, (int)r!["usage"]!["input_tokens"]!);
        }
        Assert.True(withReasoning > without);
    }

    [Fact]
    public async Task A_model_that_cannot_think_asked_to_is_a_400_and_effort_none_is_accepted()
    {
        var (status, text) = await server.PostRawAsync("/v1/responses", """{"model":"stories","input":"x","reasoning":{"effort":"high"}}""");
        Assert.Equal(400, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal("\"stories\" does not support thinking", (string)error["message"]!);
        Assert.Equal("invalid_request_error", (string)error["type"]!);

        (status, text) = await server.PostRawAsync("/v1/responses", """{"model":"stories","input":"x","max_output_tokens":3,"reasoning":{"effort":"none"}}""");
        Assert.Equal(200, status);
        Assert.Equal(["message"], JsonNode.Parse(text)!["output"]!.AsArray().Select(i => (string)i!["type"]!));
    }

    [Theory]
    [InlineData("""{"reasoning":{"effort":"extreme"}}""",
        "invalid reasoning value: \"extreme\" (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")", "reasoning")]
    [InlineData("""{"reasoning":"high"}""", "reasoning must be an object like {\"effort\": \"medium\"}", "reasoning")]
    [InlineData("""{"input":[{"type":"reasoning","summary":"x"}]}""", "input[0].summary must be an array of summary_text parts", "input[0].summary")]
    [InlineData("""{"input":[{"type":"reasoning","summary":[{"type":"text","text":"x"}]}]}""",
        "input[0].summary[0] must be {\"type\": \"summary_text\", \"text\": \"...\"}", "input[0].summary[0]")]
    [InlineData("""{"input":[{"type":"reasoning","encrypted_content":5}]}""", "input[0].encrypted_content must be a string", "input[0].encrypted_content")]
    public async Task Bad_reasoning_gets_openais_error_object(string fields, string message, string param)
    {
        var body = JsonNode.Parse("""{"model":"reasoner","input":"x","max_output_tokens":3}""")!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(fields)!.AsObject()) body[key] = value?.DeepClone();
        var (status, text) = await server.PostRawAsync("/v1/responses", body.ToJsonString());
        Assert.Equal(400, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal(message, (string)error["message"]!);
        Assert.Equal(param, (string)error["param"]!);
    }
}
