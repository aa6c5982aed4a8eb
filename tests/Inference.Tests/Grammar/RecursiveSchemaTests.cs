using System.Text;
using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Checking;

namespace Inference.Tests.Grammar;

/// <summary>
/// Recursive $ref: supported when a document can nest (trees, linked lists, mutual recursion through objects
/// and arrays), refused with the $ref named when the grammar would need left recursion (a document inside
/// itself at the same position) or when no finite document exists; long $ref chains are bounded.
/// </summary>
public sealed class RecursiveSchemaTests(GrammarModels models) : IClassFixture<GrammarModels>
{
    private static string Convert(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return JsonGrammar.FromSchema(document.RootElement);
    }

    [Theory]
    [InlineData("""{"$ref":"#"}""", "#", "'#' refers back to itself before any JSON text is written")]
    [InlineData("""{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""", "#/$defs/b", "'#/$defs/a' refers back to itself")]
    [InlineData("""{"type":"object","properties":{"x":{"$ref":"#/properties/x"}}}""", "#/properties/x", "'#/properties/x' refers back to itself")]
    [InlineData("""{"anyOf":[{"$ref":"#"},{"type":"null"}]}""", "#/anyOf/0", "'#' refers back to itself")]
    [InlineData("""{"$defs":{"a":{"anyOf":[{"type":"integer"},{"$ref":"#/$defs/b"}]},"b":{"oneOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""", "#/$defs/b/oneOf/0", "'#/$defs/a' refers back to itself")]
    [InlineData("""{"type":"object","properties":{"next":{"$ref":"#"}},"required":["next"]}""", "#", "'#' is recursive and every document it allows contains itself again")]
    [InlineData("""{"$defs":{"Pair":{"type":"array","items":{"$ref":"#/$defs/Pair"},"minItems":1}},"$ref":"#/$defs/Pair"}""", "#/$defs/Pair", "'#/$defs/Pair' is recursive and every document it allows contains itself again")]
    public void RecursionWithoutProgressIsRefusedNamingTheRef(string schema, string path, string detail)
    {
        var ex = Assert.Throws<SchemaNotSupportedException>(() => Convert(schema));
        Assert.Equal("$ref", ex.Keyword);
        Assert.Equal(path, ex.Path);
        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"value":{"type":"integer"},"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["value","next"]}""",
        """{"value": 1, "next": {"value": 2, "next": {"value": 3, "next": null}}}""")]
    [InlineData("""{"$defs":{"Node":{"type":"object","properties":{"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},"required":["children"]}},"$ref":"#/$defs/Node"}""",
        """{"children": [{"children": []}, {"children": [{"children": []}]}]}""")]
    [InlineData("""{"$defs":{"A":{"type":"object","properties":{"b":{"$ref":"#/$defs/B"}}},"B":{"type":"array","items":{"$ref":"#/$defs/A"},"maxItems":2}},"$ref":"#/$defs/A"}""",
        """{"b": [{}, {"b": [{"b": []}]}]}""")]
    [InlineData("""{"type":"array","items":{"$ref":"#"}}""", "[[], [[]], [[], [[]]]]")]
    public void RecursionThroughObjectsAndArraysIsSupported(string schema, string document)
    {
        var grammar = Convert(schema);
        Assert.True(GbnfChecker.Check(grammar).IsUsable);
        Assert.True(LlamaGrammarMatch.Matches(models.Stories, grammar, document), "llama.cpp rejects a valid document");
        Assert.True(LlamaGrammarMatch.Matches(models.TinyRandom, grammar, document), "llama.cpp rejects a valid document");
    }

    [Fact]
    public void LongRefChainsAreRefusedBeforeTheyExhaustTheStack()
    {
        var defs = new StringBuilder();
        for (int i = 0; i < 5000; i++) defs.Append($"\"d{i}\":{{\"$ref\":\"#/$defs/d{i + 1}\"}},");
        defs.Append("\"d5000\":{\"type\":\"integer\"}");
        var ex = Assert.Throws<SchemaNotSupportedException>(() => Convert($$"""{"$defs":{{{defs}}},"$ref":"#/$defs/d0"}"""));
        Assert.Equal("schema", ex.Keyword);
        Assert.Contains($"nested more than {SchemaConverter.MaxDepth} levels deep", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefChainsWithinTheBoundAreConverted()
    {
        var defs = new StringBuilder();
        for (int i = 0; i < 100; i++) defs.Append($"\"d{i}\":{{\"$ref\":\"#/$defs/d{i + 1}\"}},");
        defs.Append("\"d100\":{\"type\":\"integer\"}");
        var grammar = Convert($$"""{"$defs":{{{defs}}},"$ref":"#/$defs/d0"}""");
        Assert.True(LlamaGrammarMatch.Matches(models.Stories, grammar, "42"));
    }
}
