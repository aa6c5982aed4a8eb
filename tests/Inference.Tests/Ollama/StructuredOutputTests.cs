using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>format / response_format end to end: the tiny models emit valid JSON because the grammar allows nothing else.</summary>
[Collection("server")]
public sealed class StructuredOutputTests(SharedServer server)
{
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
}
