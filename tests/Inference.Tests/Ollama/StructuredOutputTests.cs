using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Tests.Grammar;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// format / response_format (and tool schemas) end to end: the tiny models emit valid JSON because the grammar
/// allows nothing else; schemas whose grammar llama.cpp used to abort on are served or refused with a 400, and
/// the server keeps serving.
/// </summary>
[Collection("server")]
public sealed class StructuredOutputTests(SharedServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => ToolTemplates.CreateModelsAsync(server);

    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly JsonObject PersonSchema = JsonNode.Parse("""
        {"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},"pet":{"enum":["cat","dog"]}},
         "required":["name","age","pet"],"additionalProperties":false}
        """)!.AsObject();

    private static void AssertPerson(string text)
    {
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.True(root.GetProperty("name").GetString()!.Length <= 12);
        Assert.True(root.GetProperty("age").TryGetInt64(out _));
        Assert.Contains(root.GetProperty("pet").GetString(), new[] { "cat", "dog" });
        Assert.Equal(3, root.EnumerateObject().Count());
    }

    [Theory]
    [InlineData("stories", 1)]
    [InlineData("stories", 2)]
    [InlineData("stories", 3)]
    public async Task Generate_with_format_json_returns_a_json_object(string model, int seed)
    {
        var (status, r) = await server.PostAsync("/api/generate",
            new { model, prompt = "Describe a cat as JSON:", format = "json", stream = false, options = new { seed, temperature = 0.8, num_predict = 1500 } });
        Assert.Equal(200, status);
        Assert.Equal("stop", (string)r!["done_reason"]!);
        using var doc = JsonDocument.Parse((string)r["response"]!);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
    }

    [Theory]
    [InlineData("stories", 4)]
    [InlineData("tiny", 5)]
    public async Task Chat_with_a_schema_returns_a_valid_document(string model, int seed)
    {
        var (status, r) = await server.PostAsync("/api/chat", new
        {
            model, messages = new[] { new { role = "user", content = "Tell me about Tom." } }, format = PersonSchema, stream = false,
            options = new { seed, temperature = 0.8, num_predict = 600 },
        });
        Assert.Equal(200, status);
        AssertPerson((string)r!["message"]!["content"]!);
    }

    [Fact]
    public async Task Openai_response_format_json_schema_is_honoured()
    {
        var (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", messages = new[] { new { role = "user", content = "Tom" } }, seed = 6, max_tokens = 600,
            response_format = new { type = "json_schema", json_schema = new { name = "person", schema = PersonSchema } },
        });
        Assert.Equal(200, status);
        AssertPerson((string)r!["choices"]![0]!["message"]!["content"]!);
    }

    [Fact]
    public async Task Bad_formats_are_400()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", format = "xml" });
        Assert.Equal(400, status);
        Assert.Equal("format must be \"json\" or a JSON Schema object", (string)r!["error"]!);

        (status, r) = await server.PostAsync("/v1/chat/completions", new { model = "stories", messages = new[] { new { role = "user", content = "x" } }, response_format = new { type = "yaml" } });
        Assert.Equal(400, status);
        Assert.Equal("response_format", (string)r!["error"]!["param"]!);
    }

    /// <summary>Schemas from issue 10 whose grammars crashed the server: their bounds are now expressed within llama.cpp's limits.</summary>
    public static readonly TheoryData<string, string, char> BoundedReproductions = new()
    {
        { "maxLength 2001", """{"type":"string","maxLength":2001}""", '"' },
        { "minLength 3000", """{"type":"string","minLength":3000}""", '"' },
        { "minItems 2001", """{"type":"array","items":{"type":"integer"},"minItems":2001}""", '[' },
        { "maxItems 2147483647", """{"type":"array","maxItems":2147483647}""", '[' },
        { "maxProperties 2147483647", """{"type":"object","additionalProperties":{"type":"integer"},"maxProperties":2147483647}""", '{' },
        { "propertyNames.maxLength 100000", """{"type":"object","additionalProperties":{"type":"boolean"},"propertyNames":{"type":"string","maxLength":100000}}""", '{' },
    };

    /// <summary>Recursive $ref that no grammar can express without left recursion: a 400 naming the $ref.</summary>
    public static readonly TheoryData<string, string, string> RecursiveReproductions = new()
    {
        { "ref to the root", """{"$ref":"#"}""", "#" },
        { "a to b to a", """{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""", "#/$defs/b" },
        { "a property referring to itself", """{"type":"object","properties":{"x":{"$ref":"#/properties/x"}}}""", "#/properties/x" },
    };

    /// <summary>The server still answers an ordinary request.</summary>
    private async Task AssertStillServingAsync()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 4, seed = 1 } });
        Assert.Equal(200, status);
        Assert.True((bool)r!["done"]!);
        Assert.Equal(4, (int)r["eval_count"]!);
    }

    private static JsonNode Schema(string json) => JsonNode.Parse(json)!;

    [Theory]
    [MemberData(nameof(BoundedReproductions))]
    public async Task Generate_serves_schemas_with_bounds_beyond_llama_cpps_repetition_limit(string name, string schema, char first)
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", format = Schema(schema), stream = false, options = new { num_predict = 12, seed = 2 } });
        Assert.True(status == 200, $"{name}: {r}");
        Assert.StartsWith(first.ToString(), (string)r!["response"]!, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Theory]
    [MemberData(nameof(BoundedReproductions))]
    public async Task Chat_and_openai_serve_the_same_schemas(string name, string schema, char first)
    {
        var (status, r) = await server.PostAsync("/api/chat", new
        {
            model = "stories", messages = new[] { new { role = "user", content = "Once" } }, format = Schema(schema), stream = false,
            options = new { num_predict = 12, seed = 3 },
        });
        Assert.True(status == 200, $"{name}: {r}");
        Assert.StartsWith(first.ToString(), (string)r!["message"]!["content"]!, StringComparison.Ordinal);

        (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", messages = new[] { new { role = "user", content = "Once" } }, max_tokens = 12, seed = 4,
            response_format = new { type = "json_schema", json_schema = new { name = "x", schema = Schema(schema) } },
        });
        Assert.True(status == 200, $"{name}: {r}");
        Assert.StartsWith(first.ToString(), (string)r!["choices"]![0]!["message"]!["content"]!, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Theory]
    [MemberData(nameof(RecursiveReproductions))]
    public async Task Recursive_refs_without_progress_are_400_on_every_api(string name, string schema, string path)
    {
        string expected = $"unsupported JSON schema: JSON Schema keyword '$ref' at '{path}' is not supported: ";
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", format = Schema(schema), stream = false });
        Assert.True(status == 400, $"{name}: {r}");
        Assert.StartsWith(expected, (string)r!["error"]!, StringComparison.Ordinal);
        Assert.Contains("refers back to itself before any JSON text is written", (string)r["error"]!, StringComparison.Ordinal);

        (status, r) = await server.PostAsync("/api/chat", new { model = "stories", messages = new[] { new { role = "user", content = "x" } }, format = Schema(schema) });
        Assert.Equal(400, status);
        Assert.StartsWith(expected, (string)r!["error"]!, StringComparison.Ordinal);

        (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", messages = new[] { new { role = "user", content = "x" } },
            response_format = new { type = "json_schema", json_schema = new { name = "x", schema = Schema(schema) } },
        });
        Assert.Equal(400, status);
        var error = r!["error"]!;
        Assert.StartsWith(expected, (string)error["message"]!, StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal("response_format", (string)error["param"]!);
        await AssertStillServingAsync();
    }

    public static TheoryData<string> AllToolSchemas()
    {
        var data = new TheoryData<string>();
        foreach (var row in BoundedReproductions) data.Add((string)row[1]);
        foreach (var row in RecursiveReproductions) data.Add((string)row[1]);
        return data;
    }

    /// <summary>
    /// The same schemas as a tool's parameters on both APIs: bounded ones are enforced, recursive ones the grammar
    /// cannot express fall back to any bounded object (as every tool schema the converter cannot enforce does).
    /// Either way the request is served and every call the model makes has an object as arguments.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllToolSchemas))]
    public async Task Tool_parameters_with_the_same_schemas_are_served(string schema)
    {
        var parameters = Schema(schema).AsObject();
        if (!parameters.ContainsKey("type") && !parameters.ContainsKey("$ref") && !parameters.ContainsKey("$defs")) parameters["type"] = "object";
        var tools = new JsonArray(new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = "act", ["description"] = "does it", ["parameters"] = parameters },
        });
        var messages = new[] { new { role = "user", content = "Call act." } };

        var (status, r) = await server.PostAsync("/api/chat", new { model = "qwen-tools", messages, tools, stream = false, options = new { num_predict = 24, seed = 5 } });
        Assert.True(status == 200, r?.ToJsonString());
        foreach (var call in r!["message"]!["tool_calls"]?.AsArray() ?? [])
            Assert.Equal(JsonValueKind.Object, call!["function"]!["arguments"]!.GetValueKind());

        (status, r) = await server.PostAsync("/v1/chat/completions", new { model = "qwen-tools", messages, tools = tools.DeepClone(), max_tokens = 24, seed = 6 });
        Assert.True(status == 200, r?.ToJsonString());
        foreach (var call in r!["choices"]![0]!["message"]!["tool_calls"]?.AsArray() ?? [])
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse((string)call!["function"]!["arguments"]!).RootElement.ValueKind);

        // A forced call must use the function's grammar (a bounded object when the schema cannot be enforced).
        (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "qwen-tools", messages, tools = tools.DeepClone(), max_tokens = 24, seed = 7, tool_choice = "required",
        });
        Assert.True(status == 200, r?.ToJsonString());
        await AssertStillServingAsync();
    }

    /// <summary>Large bounds a tiny model can actually fill or finish within its context: the output is valid.</summary>
    [Theory]
    [InlineData("""{"type":"string","maxLength":5000}""", 5)]
    [InlineData("""{"type":"string","minLength":2001,"maxLength":2100}""", 6)]
    [InlineData("""{"type":"object","properties":{"story":{"type":"string","minLength":1500,"maxLength":2500}},"required":["story"]}""", 7)]
    public async Task Large_but_servable_bounds_give_valid_output(string schema, int seed)
    {
        var (status, r) = await server.PostAsync("/api/generate", new
        {
            model = "stories", prompt = "Once upon a time", format = Schema(schema), stream = false, options = new { num_predict = 1900, seed },
        });
        Assert.Equal(200, status);
        Assert.Equal("stop", (string)r!["done_reason"]!);
        using var document = JsonDocument.Parse((string)r["response"]!);
        using var parsed = JsonDocument.Parse(schema);
        Assert.Null(new SchemaValidator(parsed.RootElement).Validate(document.RootElement));
    }
}
