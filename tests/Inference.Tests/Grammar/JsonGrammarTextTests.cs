using System.Text.Json;
using Inference.Engine.Grammar;

namespace Inference.Tests.Grammar;

/// <summary>The exact GBNF for small schemas, and the errors for schemas the converter refuses (invalid JSON Schema, unresolvable references).</summary>
public sealed class JsonGrammarTextTests
{
    private static string Convert(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return JsonGrammar.FromSchema(document.RootElement);
    }

    [Fact]
    public void BooleanSchema() =>
        Assert.Equal("root ::= boolean\nboolean ::= \"true\" | \"false\"\n", Convert("""{"type":"boolean"}"""));

    [Fact]
    public void EnumSchemaListsEachValueAsCompactJson() =>
        Assert.Equal("root ::= \"\\\"red\\\"\" | \"1\" | \"null\" | \"{\\\"a\\\":[true]}\"\n",
            Convert("""{"enum":["red",1,null,{ "a" : [ true ] }]}"""));

    [Fact]
    public void EnumValuesOfAnotherTypeAreDropped() =>
        Assert.Equal("root ::= \"\\\"x\\\"\"\n", Convert("""{"type":"string","enum":["x",2]}"""));

    [Fact]
    public void StringLengthsBecomeABoundedRepetition()
    {
        var grammar = Convert("""{"type":"string","minLength":2,"maxLength":5}""");
        Assert.StartsWith("root ::= string-2-5\n", grammar, StringComparison.Ordinal);
        Assert.Contains("string-2-5 ::= \"\\\"\" char{2,5} \"\\\"\"\n", grammar, StringComparison.Ordinal);
    }

    [Fact]
    public void RequiredPropertiesComeFirstAndOptionalOnesMayBeOmitted()
    {
        var grammar = Convert("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"}},"required":["b"]}""");
        Assert.StartsWith("root ::= \"{\" ws root-b-kv (\",\" ws root-a-kv)? \"}\"\n", grammar, StringComparison.Ordinal);
        Assert.Contains("root-a-kv ::= \"\\\"a\\\"\" ws \":\" ws integer ws\n", grammar, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutRequiredPropertiesWhicheverComesFirstHasNoComma()
    {
        var grammar = Convert("""{"properties":{"a":{"type":"null"},"b":{"type":"null"},"c":{"type":"null"}}}""");
        Assert.StartsWith("root ::= \"{\" ws (root-a-kv root-tail-0 | root-b-kv root-tail-1 | root-c-kv)? \"}\"\n", grammar, StringComparison.Ordinal);
        Assert.Contains("root-tail-1 ::= (\",\" ws root-c-kv)?\n", grammar, StringComparison.Ordinal);
        Assert.Contains("root-tail-0 ::= (\",\" ws root-b-kv)? root-tail-1\n", grammar, StringComparison.Ordinal);
    }

    [Fact]
    public void RecursiveReferencesBecomeOneNamedRule()
    {
        var grammar = Convert("""{"$defs":{"Node":{"type":"array","items":{"$ref":"#/$defs/Node"},"maxItems":2}},"$ref":"#/$defs/Node"}""");
        Assert.StartsWith("root ::= ref-Node\n", grammar, StringComparison.Ordinal);
        Assert.Contains("ref-Node ::= \"[\" ws ref-Node-list? \"]\"\n", grammar, StringComparison.Ordinal);
        Assert.Contains("ref-Node-list ::= ref-Node-first ref-Node-next?\n", grammar, StringComparison.Ordinal);
        Assert.Contains("ref-Node-first ::= ref-Node ws\n", grammar, StringComparison.Ordinal);
        Assert.Contains("ref-Node-next ::= \",\" ws ref-Node ws\n", grammar, StringComparison.Ordinal);
    }

    [Fact]
    public void AnyJsonIsAnObject() => Assert.StartsWith("root ::= object\n", JsonGrammar.ForAnyJson(), StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"$ref":"https://example.com/schema.json"}""", "$ref", "#")]
    [InlineData("""{"$ref":"#/$defs/Missing"}""", "$ref", "#")]
    [InlineData("""{"anyOf":[{"type":"integer"},{"type":"strnig"}]}""", "type", "#/anyOf/1")]
    [InlineData("""{"type":"object","properties":{"n":{"type":"number","maximum":"3"}}}""", "maximum", "#/properties/n")]
    [InlineData("""{"type":"array","items":{"allOf":[{"type":"integer"},{"type":"boolean"}]}}""", "type", "#/items/allOf/1")]
    public void UnsupportedConstructsNameTheKeywordAndPath(string schema, string keyword, string path)
    {
        var ex = Assert.Throws<SchemaNotSupportedException>(() => Convert(schema));
        Assert.Equal(keyword, ex.Keyword);
        Assert.Equal(path, ex.Path);
        Assert.Contains($"'{keyword}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{path}'", ex.Message, StringComparison.Ordinal);
    }
}
