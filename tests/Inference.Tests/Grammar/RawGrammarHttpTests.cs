using System.Text.Json.Nodes;
using Inference.Engine.Grammar.Checking;
using Inference.Tests.Support;

namespace Inference.Tests.Grammar;

/// <summary>
/// A request's own GBNF grammar (top-level "grammar", as llama-server takes it) on Ollama's and OpenAI's routes:
/// it constrains the output exactly; a grammar the checker refuses (malformed, or one llama.cpp would crash or
/// hang on) is a 400 naming the problem, in each API's error shape; grammar with format, response_format or
/// tools is a 400 naming the other field. The server keeps serving afterwards.
/// </summary>
[Collection("server")]
public sealed class RawGrammarHttpTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ToolTemplates.CreateModelsAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    private const string YesNo = "root ::= \"yes\" | \"no\"";

    private static readonly object[] Question = [new { role = "user", content = "Is it raining?" }];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task The_grammar_constrains_the_output_on_every_route(int seed)
    {
        var options = new { temperature = 1.0, seed, num_predict = 32 };
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", grammar = YesNo, stream = false, options });
        Assert.Equal(200, status);
        Assert.Contains((string)r!["response"]!, new[] { "yes", "no" });
        Assert.Equal("stop", (string)r["done_reason"]!);

        (status, r) = await server.PostAsync("/api/chat", new { model = "tiny", messages = Question, grammar = YesNo, stream = false, options });
        Assert.Equal(200, status);
        Assert.Contains((string)r!["message"]!["content"]!, new[] { "yes", "no" });

        (status, r) = await server.PostAsync("/v1/chat/completions",
            new { model = "stories", messages = Question, grammar = YesNo, temperature = 1.0, seed, max_tokens = 32 });
        Assert.Equal(200, status);
        Assert.Contains((string)r!["choices"]![0]!["message"]!["content"]!, new[] { "yes", "no" });
        Assert.Equal("stop", (string)r["choices"]![0]!["finish_reason"]!);

        (status, r) = await server.PostAsync("/v1/completions",
            new { model = "tiny", prompt = "Once", grammar = YesNo, temperature = 1.0, seed, max_tokens = 32 });
        Assert.Equal(200, status);
        Assert.Contains((string)r!["choices"]![0]!["text"]!, new[] { "yes", "no" });

        var lines = await server.StreamAsync("/api/generate", new { model = "stories", prompt = "Once", grammar = YesNo, options });
        Assert.Contains(string.Concat(lines.Select(l => (string)l["response"]!)), new[] { "yes", "no" });
    }

    public static IEnumerable<object[]> Refused() =>
    [
        ["root ::= \"yes", "syntax error"],
        ["root ::= answer", "undefined rule"],
        ["root ::= root \"a\" | \"a\"", "left recursion"],
        ["root ::= x \"a\"\nx ::= y\ny ::= x | \"\"", "left recursion"],
        ["", "empty"],
        ["answer ::= \"x\"", "no root rule"],
        ["root ::= \"a\"{5,2}", "repetition"],
        ["root ::= x\nx ::= \"a\" x", "dead end"],
    ];

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_grammar_the_checker_refuses_is_a_400_naming_the_problem(string grammar, string problem)
    {
        var verdict = GbnfChecker.Check(grammar);
        Assert.False(verdict.IsUsable);
        string expected = $"invalid grammar ({problem}): {verdict.Message}";

        foreach (var (path, body) in new (string, object)[]
                 {
                     ("/api/generate", new { model = "stories", prompt = "Once", grammar, stream = false }),
                     ("/api/chat", new { model = "stories", messages = Question, grammar, stream = false }),
                 })
        {
            var (status, r) = await server.PostAsync(path, body);
            Assert.Equal(400, status);
            Assert.Equal(new JsonObject { ["error"] = expected }.ToJsonString(), r!.ToJsonString());
        }
        foreach (var (path, body) in new (string, object)[]
                 {
                     ("/v1/chat/completions", new { model = "stories", messages = Question, grammar }),
                     ("/v1/completions", new { model = "stories", prompt = "Once", grammar }),
                 })
        {
            var (status, r) = await server.PostAsync(path, body);
            Assert.Equal(400, status);
            Assert.Equal(expected, (string)r!["error"]!["message"]!);
            Assert.Equal("invalid_request_error", (string)r["error"]!["type"]!);
            Assert.Equal("grammar", (string)r["error"]!["param"]!);
        }

        // Still serving.
        var (ok, _) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", grammar = YesNo, stream = false });
        Assert.Equal(200, ok);
    }

    [Fact]
    public async Task Grammar_with_another_output_constraint_is_a_400_naming_it()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", grammar = YesNo, format = "json", stream = false });
        Assert.Equal(400, status);
        Assert.Equal("grammar cannot be combined with format: use one or the other", (string)r!["error"]!);

        (status, r) = await server.PostAsync("/api/chat",
            new { model = "qwen-tools", messages = Question, grammar = YesNo, tools = JsonNode.Parse(ToolTemplates.ToolsJson), stream = false });
        Assert.Equal(400, status);
        Assert.Equal("grammar cannot be combined with tools: use one or the other", (string)r!["error"]!);

        (status, r) = await server.PostAsync("/v1/chat/completions",
            new { model = "stories", messages = Question, grammar = YesNo, response_format = new { type = "json_object" } });
        Assert.Equal(400, status);
        Assert.Equal("grammar cannot be combined with response_format: use one or the other", (string)r!["error"]!["message"]!);
        Assert.Equal("grammar", (string)r["error"]!["param"]!);
    }
}
