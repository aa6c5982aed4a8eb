using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Completion;
using Inference.Tests.Grammar.Completion;
using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>
/// Structured output through the unmodified clients (tests/compat) with both test models: openai's
/// chat.completions.parse with zodResponseFormat (zod 4 and zod 3), LangChain's ChatOllama.withStructuredOutput
/// (zod, and JSON Schema with method "jsonSchema"), and the ollama client with zod-to-json-schema's output as
/// `format`. Each returns {name: string, age: integer} that the client itself parsed and checked; with a token cap
/// too small for the answer the result still parses, and the cut is reported as "length".
/// </summary>
[Collection("server")]
public sealed class StructuredClientCompatibilityTests(SharedServer server)
{
    private static void AssertPerson(JsonNode? result, string what)
    {
        Assert.True(result is not null && (bool)result["ok"]!, $"{what}: {result?.ToJsonString()}");
        var value = result!["value"]!.AsObject();
        Assert.Equal(["name", "age"], value.Select(p => p.Key).Order().Reverse());
        Assert.Equal("string", (string)result["types"]!["name"]!);
        Assert.Equal("integer", (string)result["types"]!["age"]!);
    }

    private static (string Text, int Tokens) ShortestDocument(string model, JsonNode schema)
    {
        using var document = JsonDocument.Parse(schema.ToJsonString());
        var text = new GrammarCloser(JsonGrammar.FromSchema(document.RootElement), t => t.Length).Current().Text;
        return (text, ModelTokenizers.Count(model, text));
    }

    [Theory]
    [InlineData("stories")]
    [InlineData("tiny")]
    public async Task Openai_parse_with_zodResponseFormat(string model)
    {
        var r = await CompatClient.RunAsync("openai-structured.mjs", "openai", new Dictionary<string, string>
        {
            ["OPENAI_BASE_URL"] = server.BaseUrl + "/v1", ["MODEL"] = model,
        });
        AssertPerson(r["zod4"], "zod 4 through parse()");
        AssertPerson(r["zod3"], "zod 3 through parse()");
        var small = r["small"]!;
        Assert.True((bool)small["ok"]!, $"max_tokens 6: {small.ToJsonString()}");
        Assert.Equal("length", (string)small["finish"]!);
        // README "Complete by construction": within the cap, or, for a cap below the shortest valid document, within
        // that document's tokens (worked out from the schema the client sent, counted by the model's own tokenizer).
        var shortest = ShortestDocument(model, small["schema"]!);
        Assert.True((int)small["tokens"]! <= Math.Max(6, shortest.Tokens),
            $"{small["tokens"]} tokens > max(cap 6, {shortest.Tokens} of the shortest document {shortest.Text}): {small.ToJsonString()}");
    }

    [Theory]
    [InlineData("stories")]
    [InlineData("tiny")]
    public async Task Langchain_withStructuredOutput_with_zod_and_with_json_schema(string model)
    {
        var r = await CompatClient.RunAsync("langchain-structured.mjs", "@langchain/ollama", new Dictionary<string, string>
        {
            ["OLLAMA_URL"] = server.BaseUrl, ["MODEL"] = model,
        });
        AssertPerson(r["zod"], "zod");
        AssertPerson(r["jsonSchema"], "JSON Schema, method jsonSchema");
        AssertPerson(r["small"], "zod with numPredict 6");
    }

    [Theory]
    [InlineData("stories")]
    [InlineData("tiny")]
    public async Task Ollama_client_with_zod_to_json_schema_format(string model)
    {
        var r = await CompatClient.RunAsync("ollama-structured.mjs", "ollama", new Dictionary<string, string>
        {
            ["OLLAMA_URL"] = server.BaseUrl, ["MODEL"] = model,
        });
        AssertPerson(r["full"], "num_predict 300");
        AssertPerson(r["small"], "num_predict 6");
        Assert.Equal("length", (string)r["small"]!["done_reason"]!);
    }
}
