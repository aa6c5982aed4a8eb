using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Anthropic;

/// <summary>
/// Extended thinking on POST /v1/messages through HTTP with <see cref="ReasonerModel"/>: the reasoning is a
/// thinking block before the text block, equal to what /api/chat returns as message.thinking for the same
/// conversation; streamed as a thinking block of thinking_delta events before the text block; thinking blocks in
/// the history reach the template; asking a model that cannot think is Anthropic's 400 with Ollama's message.
/// </summary>
[Collection("server")]
public sealed class AnthropicThinkingTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ReasonerModel.CreateAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    private const int MaxTokens = 40;
    private static readonly object[] Question = [new { role = "user", content = "Hi" }];

    /// <summary>The same conversation on /api/chat: message.thinking, message.content and the token counts.</summary>
    private async Task<JsonNode> ChatAsync(object think, object[]? messages = null)
    {
        var (status, chat) = await server.PostAsync("/api/chat", new
        {
            model = ReasonerModel.Name, messages = messages ?? Question, think, stream = false, options = new { temperature = 0, num_predict = MaxTokens },
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
    public async Task Thinking_is_a_thinking_block_before_the_text_equal_to_ollamas_chat()
    {
        var chat = await ChatAsync(true);
        string thinking = (string)chat["message"]!["thinking"]!, text = (string)chat["message"]!["content"]!;
        // The reasoning ends at the model's first "the" (the closing tag), and the answer follows it.
        Assert.NotEqual("", thinking);
        Assert.DoesNotContain("the", thinking);
        Assert.NotEqual("", text);

        var (status, r) = await server.PostAsync("/v1/messages", new
        {
            model = ReasonerModel.Name, max_tokens = MaxTokens, temperature = 0, messages = Question,
            thinking = new { type = "enabled", budget_tokens = 1024 },
        });
        Assert.Equal(200, status);
        Assert.Equal(new JsonArray(
                new JsonObject { ["type"] = "thinking", ["thinking"] = thinking, ["signature"] = "" },
                new JsonObject { ["type"] = "text", ["text"] = text }).ToJsonString(),
            r!["content"]!.ToJsonString());
        Assert.Equal((string)chat["done_reason"]! == "length" ? "max_tokens" : "end_turn", (string)r["stop_reason"]!);
        Assert.Equal(await PromptTokensAsync(Question), (int)r["usage"]!["input_tokens"]!);
        Assert.Equal((int)chat["eval_count"]!, (int)r["usage"]!["output_tokens"]!);

        // A model that can think thinks unless told not to (as on Ollama's routes); "adaptive" leaves that default.
        foreach (var setting in new object?[] { null, new { type = "adaptive" } })
        {
            (status, var same) = await server.PostAsync("/v1/messages", new
            {
                model = ReasonerModel.Name, max_tokens = MaxTokens, temperature = 0, messages = Question, thinking = setting,
            });
            Assert.Equal(200, status);
            Assert.Equal(r["content"]!.ToJsonString(), same!["content"]!.ToJsonString());
        }
    }

    [Fact]
    public async Task Disabled_thinking_is_one_text_block_as_ollamas_chat_with_think_false()
    {
        var chat = await ChatAsync(false);
        Assert.Null(chat["message"]!["thinking"]);
        var (status, r) = await server.PostAsync("/v1/messages", new
        {
            model = ReasonerModel.Name, max_tokens = MaxTokens, temperature = 0, messages = Question, thinking = new { type = "disabled" },
        });
        Assert.Equal(200, status);
        Assert.Equal(new JsonArray(new JsonObject { ["type"] = "text", ["text"] = (string)chat["message"]!["content"]! }).ToJsonString(),
            r!["content"]!.ToJsonString());
    }

    [Fact]
    public async Task Output_config_effort_sets_the_thinking_level_when_thinking_is_not_set()
    {
        var chat = await ChatAsync("high");
        var (status, r) = await server.PostAsync("/v1/messages", new
        {
            model = ReasonerModel.Name, max_tokens = MaxTokens, temperature = 0, messages = Question, output_config = new { effort = "high" },
        });
        Assert.Equal(200, status);
        Assert.Equal((string)chat["message"]!["thinking"]!, (string)r!["content"]![0]!["thinking"]!);

        // thinking wins over output_config: disabled is disabled whatever the effort.
        (status, r) = await server.PostAsync("/v1/messages", new
        {
            model = ReasonerModel.Name, max_tokens = MaxTokens, temperature = 0, messages = Question,
            thinking = new { type = "disabled" }, output_config = new { effort = "high" },
        });
        Assert.Equal(200, status);
        Assert.Equal("text", (string)Assert.Single(r!["content"]!.AsArray())!["type"]!);
    }

    [Fact]
    public async Task The_stream_sends_a_thinking_block_of_thinking_deltas_before_the_text_block()
    {
        var chat = await ChatAsync(true);
        var events = await SseEvents.ReadAsync(server, "/v1/messages", new
        {
            model = ReasonerModel.Name, max_tokens = MaxTokens, temperature = 0, messages = Question, stream = true,
            thinking = new { type = "enabled", budget_tokens = 1024 },
        });
        var names = events.Select(e => e.Name switch
        {
            "content_block_delta" => (string)e.Data["delta"]!["type"]! + "@" + (int)e.Data["index"]!,
            "content_block_start" or "content_block_stop" => e.Name + "@" + (int)e.Data["index"]!,
            var n => n,
        }).ToList();
        // Consecutive deltas of one block collapse to one entry: the event order is then exact.
        var order = names.Where((n, i) => i == 0 || n != names[i - 1]).ToList();
        Assert.Equal([
            "message_start", "content_block_start@0", "thinking_delta@0", "content_block_stop@0",
            "content_block_start@1", "text_delta@1", "content_block_stop@1", "message_delta", "message_stop",
        ], order);
        Assert.Equal("""{"type":"thinking","thinking":"","signature":""}""", events[1].Data["content_block"]!.ToJsonString());
        Assert.Equal((string)chat["message"]!["thinking"]!,
            string.Concat(events.Where(e => (string?)e.Data["delta"]?["type"] == "thinking_delta").Select(e => (string)e.Data["delta"]!["thinking"]!)));
        Assert.Equal((string)chat["message"]!["content"]!,
            string.Concat(events.Where(e => (string?)e.Data["delta"]?["type"] == "text_delta").Select(e => (string)e.Data["delta"]!["text"]!)));
        Assert.Equal((int)chat["eval_count"]!, (int)events[^2].Data["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Thinking_blocks_in_the_history_go_into_the_prompt_as_the_turns_reasoning()
    {
        object[] Turns(object assistant) => [Question[0], assistant, new { role = "user", content = "And then?" }];
        var chat = await ChatAsync(true, Turns(new { role = "assistant", content = "Hello", thinking = "I plan" }));
        int withReasoning = await PromptTokensAsync(Turns(new { role = "assistant", content = "Hello", reasoning = "I plan" }));
        int without = await PromptTokensAsync(Turns(new { role = "assistant", content = "Hello" }));

        var (status, r) = await server.PostAsync("/v1/messages", new
        {
            model = ReasonerModel.Name, max_tokens = MaxTokens, temperature = 0,
            messages = Turns(new
            {
                role = "assistant",
                content = new object[]
                {
                    new { type = "thinking", thinking = "I plan", signature = "" },
                    new { type = "redacted_thinking", data = "opaque" },
                    new { type = "text", text = "Hello" },
                },
            }),
        });
        Assert.Equal(200, status);
        Assert.Equal(withReasoning, (int)r!["usage"]!["input_tokens"]!);
        Assert.True(withReasoning > without);
        Assert.Equal(Blocks(chat), r["content"]!.ToJsonString());
    }

    /// <summary>The content blocks Anthropic's reply should hold for a /api/chat reply (no empty text block after reasoning).</summary>
    private static string Blocks(JsonNode chat)
    {
        var blocks = new JsonArray();
        if ((string?)chat["message"]!["thinking"] is { Length: > 0 } thinking)
            blocks.Add(new JsonObject { ["type"] = "thinking", ["thinking"] = thinking, ["signature"] = "" });
        if ((string)chat["message"]!["content"]! is var text && (text.Length > 0 || blocks.Count == 0))
            blocks.Add(new JsonObject { ["type"] = "text", ["text"] = text });
        return blocks.ToJsonString();
    }

    [Theory]
    [InlineData("enabled")]
    [InlineData("effort")]
    public async Task A_model_that_cannot_think_asked_to_is_a_400_with_ollamas_message(string how)
    {
        var (status, text) = await server.PostRawAsync("/v1/messages", how == "enabled"
            ? """{"model":"stories","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"x"}]}"""
            : """{"model":"stories","max_tokens":5,"output_config":{"effort":"low"},"messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(400, status);
        Assert.Equal("""{"type":"error","error":{"type":"invalid_request_error","message":"\"stories\" does not support thinking"}}""", text);

        // Turning thinking off, or leaving it to the model, is fine for any model.
        foreach (var setting in new[] { """{"type":"disabled"}""", """{"type":"adaptive"}""" })
        {
            (status, text) = await server.PostRawAsync("/v1/messages",
                $$"""{"model":"stories","max_tokens":3,"thinking":{{setting}},"messages":[{"role":"user","content":"x"}]}""");
            Assert.Equal(200, status);
            Assert.Equal("text", (string)JsonNode.Parse(text)!["content"]![0]!["type"]!);
        }
    }

    [Theory]
    [InlineData("""{"thinking":{"type":"on"}}""",
        "thinking: must be {\"type\": \"enabled\", \"budget_tokens\": N}, {\"type\": \"disabled\"} or {\"type\": \"adaptive\"}")]
    [InlineData("""{"thinking":true}""",
        "thinking: must be {\"type\": \"enabled\", \"budget_tokens\": N}, {\"type\": \"disabled\"} or {\"type\": \"adaptive\"}")]
    [InlineData("""{"thinking":{"type":"enabled","budget_tokens":0}}""", "thinking.budget_tokens: must be a positive integer")]
    [InlineData("""{"thinking":{"type":"enabled","budget_tokens":"many"}}""", "thinking.budget_tokens: must be a positive integer")]
    [InlineData("""{"output_config":{"effort":"extreme"}}""", "output_config.effort: must be \"low\", \"medium\", \"high\", \"xhigh\" or \"max\"")]
    [InlineData("""{"output_config":"high"}""", "output_config: must be an object")]
    [InlineData("""{"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":7}]}]}""", "messages[0].content[0].thinking: must be a string")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"thinking","thinking":"x"}]}]}""",
        "messages[0].content[0]: only text blocks, tool_use and thinking blocks (assistant) and tool_result blocks (user) are supported")]
    public async Task Bad_thinking_settings_get_anthropics_error_object(string fields, string message)
    {
        var body = JsonNode.Parse("""{"model":"reasoner","max_tokens":5,"messages":[{"role":"user","content":"x"}]}""")!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(fields)!.AsObject()) body[key] = value?.DeepClone();
        var (status, text) = await server.PostRawAsync("/v1/messages", body.ToJsonString());
        Assert.Equal(400, status);
        Assert.Equal("invalid_request_error", (string)JsonNode.Parse(text)!["error"]!["type"]!);
        Assert.Equal(message, (string)JsonNode.Parse(text)!["error"]!["message"]!);
    }
}
