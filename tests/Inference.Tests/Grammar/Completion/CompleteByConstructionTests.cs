using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Completion;
using Inference.Tests.Support;

namespace Inference.Tests.Grammar.Completion;

/// <summary>
/// Complete by construction, end to end over HTTP with both test models: whatever the token cap, output
/// constrained by format "json", a schema, response_format or a tool call parses and validates, says "length"
/// when it was cut, and counts in eval_count the tokens of the text that closed it; close_json false gives the raw cut.
/// </summary>
[Collection("server")]
public sealed class CompleteByConstructionTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ToolTemplates.CreateModelsAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly JsonNode IssueSchema = JsonNode.Parse(ShortestCompletionTests.IssueSchema)!;
    private static readonly JsonNode NestedSchema = JsonNode.Parse(ShortestCompletionTests.NestedSchema)!;

    private static string GrammarOf(JsonNode? schema)
    {
        if (schema is null) return AnyJsonObject.Gbnf;
        using var document = JsonDocument.Parse(schema.ToJsonString());
        return JsonGrammar.FromSchema(document.RootElement);
    }

    /// <summary>The text parses, the grammar accepts it whole, and (with a schema) the schema validates it.</summary>
    private static void AssertValid(JsonNode? schema, string text, string context)
    {
        Assert.True(ShortestCompletion.For(GrammarOf(schema)).Matcher.Match(text).Complete, $"{context}: the grammar does not accept {text}");
        using var document = JsonDocument.Parse(text);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        if (schema is null) return;
        using var schemaDocument = JsonDocument.Parse(schema.ToJsonString());
        Assert.True(new SchemaValidator(schemaDocument.RootElement).Validate(document.RootElement) is null, $"{context}: invalid for the schema: {text}");
    }

    /// <summary>
    /// Checks one capped response: valid; and eval_count within the cap, or, for a cap below the shortest
    /// document's tokens, within those (the model goes on only while each token brings the end closer).
    /// </summary>
    private static void AssertCapped(JsonNode? schema, string text, string reason, int evalCount, int cap, (string Text, int Tokens) minimal, string context)
    {
        AssertValid(schema, text, context);
        Assert.True(reason is "length" or "stop", $"{context}: {reason}");
        Assert.True(evalCount <= Math.Max(cap, minimal.Tokens), $"{context}: eval_count {evalCount} > cap {cap} (shortest document {minimal.Tokens} tokens): {text}");
    }

    /// <summary>The shortest document from the grammar's start, and its tokens by the model's own tokenizer (loaded here, not asked of the server).</summary>
    private (string Text, int Tokens) Minimal(string model, JsonNode? schema)
    {
        var text = new GrammarCloser(GrammarOf(schema), t => t.Length).Current().Text;
        return (text, ModelTokenizers.Count(model, text));
    }

    /// <summary>The issue's repro: this chat ran 2,042 tokens into unterminated JSON; now every cap (and none) gives a valid document.</summary>
    [Fact]
    public async Task The_issues_chat_with_a_schema_is_valid_at_every_cap()
    {
        var minimal = Minimal("tiny", IssueSchema);
        Assert.Equal("{}", minimal.Text);
        Assert.Equal(1, minimal.Tokens); // "{}" is one token of the Llama 2 vocabulary
        int cut = 0;
        foreach (int? cap in Enumerable.Range(1, 40).Select(n => (int?)n).Append(null))
        {
            var (status, r) = await server.PostAsync("/api/chat", new
            {
                model = "tiny", messages = new[] { new { role = "user", content = "Name a color." } }, format = IssueSchema, stream = false,
                options = new { seed = 7 + (cap ?? 0), temperature = 0.8, num_predict = cap },
            });
            Assert.Equal(200, status);
            var text = (string)r!["message"]!["content"]!;
            var reason = (string)r["done_reason"]!;
            if (reason == "length") cut++;
            AssertCapped(IssueSchema, text, reason, (int)r["eval_count"]!, cap ?? int.MaxValue, minimal, $"cap {cap}");
        }
        Assert.True(cut > 0, "no cap cut the output: the test shows nothing");
    }

    public static TheoryData<string, bool> ModelsAndStreaming => new()
    {
        { "stories", false }, { "stories", true }, { "tiny", false }, { "tiny", true },
    };

    /// <summary>A schema with nested objects, arrays, required properties and enums, at every cap 1..40, both models, streamed and not.</summary>
    [Theory]
    [MemberData(nameof(ModelsAndStreaming))]
    public async Task A_nested_schema_is_valid_at_every_cap(string model, bool stream)
    {
        var minimal = Minimal(model, NestedSchema);
        for (int cap = 1; cap <= 40; cap++)
        {
            var body = new { model, prompt = "A record:", format = NestedSchema, stream, options = new { seed = cap, temperature = 0.9, num_predict = cap } };
            var (text, reason, evalCount) = stream ? await GenerateStreamedAsync(body) : await GenerateAsync(body);
            AssertCapped(NestedSchema, text, reason, evalCount, cap, minimal, $"{model} cap {cap}");
        }
    }

    [Theory]
    [MemberData(nameof(ModelsAndStreaming))]
    public async Task Format_json_is_valid_at_every_cap(string model, bool stream)
    {
        var minimal = Minimal(model, null);
        foreach (int cap in new[] { 1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 21, 27, 34, 45, 60 })
        {
            var body = new { model, prompt = "Describe a cat as JSON:", format = "json", stream, options = new { seed = cap, num_predict = cap } };
            var (text, reason, evalCount) = stream ? await GenerateStreamedAsync(body) : await GenerateAsync(body);
            AssertCapped(null, text, reason, evalCount, cap, minimal, $"{model} cap {cap}");
        }
    }

    private async Task<(string Text, string Reason, int EvalCount)> GenerateAsync(object body)
    {
        var (status, r) = await server.PostAsync("/api/generate", body);
        Assert.True(status == 200, r?.ToJsonString());
        return ((string)r!["response"]!, (string)r["done_reason"]!, (int)r["eval_count"]!);
    }

    private async Task<(string Text, string Reason, int EvalCount)> GenerateStreamedAsync(object body)
    {
        var lines = await server.StreamAsync("/api/generate", body);
        var last = lines[^1];
        Assert.True((bool)last["done"]!);
        return (string.Concat(lines.Select(l => (string?)l["response"] ?? "")), (string)last["done_reason"]!, (int)last["eval_count"]!);
    }

    /// <summary>The text after the sampled tokens is exactly the shortest completion from where they left the grammar.</summary>
    [Theory]
    [InlineData("stories", 5)]
    [InlineData("tiny", 9)]
    public async Task The_closing_text_is_the_shortest_completion_after_the_sampled_tokens(string model, int above)
    {
        int cap = Minimal(model, NestedSchema).Tokens + above;
        var lines = await server.StreamAsync("/api/generate", new
        {
            model, prompt = "A record:", format = NestedSchema, logprobs = true, options = new { seed = 3, num_predict = cap },
        });
        var text = string.Concat(lines.Select(l => (string?)l["response"] ?? ""));
        var sampled = lines.SelectMany(l => l["logprobs"]?.AsArray() ?? []).Select(p => p!["bytes"]!.AsArray().Select(b => (byte)(int)b!).ToArray()).ToList();
        var closer = new GrammarCloser(GrammarOf(NestedSchema), t => t.Length);
        foreach (var bytes in sampled) Assert.Equal(CloseAction.Accept, closer.Next(bytes, int.MaxValue).Action);
        var prefix = Encoding.UTF8.GetString(sampled.SelectMany(b => b).ToArray());
        Assert.Equal("length", (string)lines[^1]["done_reason"]!);
        Assert.Equal(prefix + closer.Current().Text, text);
        Assert.True(sampled.Count < (int)lines[^1]["eval_count"]!, "the closing text counts in eval_count");
        Assert.True((int)lines[^1]["eval_count"]! <= cap);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Openai_response_format_is_closed_and_says_length(bool stream)
    {
        var format = new { type = "json_schema", json_schema = new { name = "record", schema = NestedSchema } };
        int minimal = Minimal("tiny", NestedSchema).Tokens;
        foreach (int cap in new[] { minimal, minimal + 4, minimal + 12, minimal + 25 })
        {
            var body = new
            {
                model = "tiny", messages = new[] { new { role = "user", content = "A record" } }, seed = cap, max_tokens = cap, stream,
                response_format = format, stream_options = stream ? new { include_usage = true } : null,
            };
            string text, finish;
            int completionTokens;
            if (stream)
            {
                using var response = await server.Client.PostAsync("/v1/chat/completions", TestServer.JsonContent(body));
                var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
                var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
                text = string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? ""));
                finish = (string)chunks.Last(c => c["choices"]!.AsArray().Count > 0)["choices"]![0]!["finish_reason"]!;
                completionTokens = (int)chunks[^1]["usage"]!["completion_tokens"]!;
            }
            else
            {
                var (status, r) = await server.PostAsync("/v1/chat/completions", body);
                Assert.True(status == 200, r?.ToJsonString());
                text = (string)r!["choices"]![0]!["message"]!["content"]!;
                finish = (string)r["choices"]![0]!["finish_reason"]!;
                completionTokens = (int)r["usage"]!["completion_tokens"]!;
            }
            AssertValid(NestedSchema, text, $"cap {cap}");
            Assert.Equal("length", finish);
            Assert.True(completionTokens <= cap, $"cap {cap}: {completionTokens} tokens");
        }
    }

    /// <summary>A forced tool call cut by max_tokens still carries arguments that parse and validate.</summary>
    [Theory]
    [InlineData("llama-tools")]
    [InlineData("qwen-tools")]
    public async Task A_forced_tool_call_is_closed(string model)
    {
        var schema = JsonNode.Parse(ToolTemplates.Schema("get_weather").GetRawText());
        using var schemaDocument = JsonDocument.Parse(schema!.ToJsonString());
        object Body(int cap) => new
        {
            model, messages = new[] { new { role = "user", content = "Weather in Paris?" } }, max_tokens = cap, seed = cap,
            tools = ToolTemplates.ToolsElement(), tool_choice = new { type = "function", function = new { name = "get_weather" } },
        };
        // A cap of 1 is below any call: the shortest call comes back, and its tokens are the least any cap can hold.
        var (_, first) = await server.PostAsync("/v1/chat/completions", Body(1));
        int minimal = (int)first!["usage"]!["completion_tokens"]!;
        foreach (int cap in new[] { 1, minimal, minimal + 3, minimal + 8, minimal + 15 })
        {
            var (status, r) = await server.PostAsync("/v1/chat/completions", Body(cap));
            Assert.True(status == 200, r?.ToJsonString());
            var call = Assert.Single(r!["choices"]![0]!["message"]!["tool_calls"]!.AsArray())!;
            Assert.Equal("get_weather", (string)call["function"]!["name"]!);
            using var arguments = JsonDocument.Parse((string)call["function"]!["arguments"]!);
            Assert.True(new SchemaValidator(schemaDocument.RootElement).Validate(arguments.RootElement) is null, $"cap {cap}: {arguments.RootElement}");
            Assert.True((int)r["usage"]!["completion_tokens"]! <= Math.Max(cap, minimal));
        }
    }

    /// <summary>close_json false (an Ollama option, an OpenAI field): the raw text cut at the cap, as before.</summary>
    [Fact]
    public async Task Close_json_false_returns_the_raw_cut()
    {
        int cap = Minimal("tiny", NestedSchema).Tokens + 6;
        object Chat(int seed, bool close) => new
        {
            model = "tiny", messages = new[] { new { role = "user", content = "A record" } }, format = NestedSchema, stream = false,
            options = new { seed, num_predict = cap, close_json = close },
        };
        // A seed whose raw output is cut by the cap (the random model may also finish by itself).
        int seed = 0;
        JsonNode? raw = null;
        for (int s = 1; s <= 8 && seed == 0; s++)
        {
            var (status, r) = await server.PostAsync("/api/chat", Chat(s, close: false));
            Assert.Equal(200, status);
            if ((string)r!["done_reason"]! != "length") continue;
            (seed, raw) = (s, r);
        }
        Assert.True(seed > 0, "no seed was cut by the cap");
        Assert.Equal(cap, (int)raw!["eval_count"]!);
        var rawText = (string)raw["message"]!["content"]!;
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(rawText));

        // The same request closed: valid, and it starts as the raw text did.
        var (_, closed) = await server.PostAsync("/api/chat", Chat(seed, close: true));
        var closedText = (string)closed!["message"]!["content"]!;
        AssertValid(NestedSchema, closedText, "closed");
        Assert.Equal("length", (string)closed["done_reason"]!);
        Assert.True(closedText.Length > 1 && rawText.StartsWith(closedText[..2], StringComparison.Ordinal), $"raw {rawText} closed {closedText}");

        var (openaiStatus, openai) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "tiny", messages = new[] { new { role = "user", content = "A record" } }, seed, max_tokens = cap, close_json = false,
            response_format = new { type = "json_schema", json_schema = new { name = "c", schema = NestedSchema } },
        });
        Assert.Equal(200, openaiStatus);
        Assert.Equal(cap, (int)openai!["usage"]!["completion_tokens"]!);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse((string)openai["choices"]![0]!["message"]!["content"]!));
    }
}
