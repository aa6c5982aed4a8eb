using System.Text.Json;

namespace Inference.Tests.Grammar;

/// <summary>The oracle itself: it must reject what the schema forbids, or every test built on it proves nothing.</summary>
public sealed class SchemaValidatorTests
{
    [Theory]
    [InlineData("""{"type":"string","format":"date"}""", "\"2024-02-30x\"")]
    [InlineData("""{"type":"string","format":"date-time"}""", "\"yesterday\"")]
    [InlineData("""{"type":"string","format":"uuid"}""", "\"not-a-uuid\"")]
    [InlineData("""{"type":"string","format":"email"}""", "\"no at sign\"")]
    [InlineData("""{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}""", "1.5")]
    [InlineData("""{"type":"integer","exclusiveMinimum":0}""", "0")]
    [InlineData("""{"type":"string","pattern":"^[A-Z]{3}$"}""", "\"abc\"")]
    [InlineData("""{"$defs":{"A":{"type":"integer"}},"$ref":"#/$defs/A"}""", "\"x\"")]
    [InlineData("""{"definitions":{"A":{"type":"integer"}},"type":"array","items":{"$ref":"#/definitions/A"}}""", "[1,\"x\"]")]
    [InlineData("""{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"A":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/definitions/A"},{"type":"null"}]}},"required":["next"],"additionalProperties":false}},"$ref":"#/definitions/A"}""", """{"next":{"next":{}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}""", """{"a":"x","b":1}""")]
    [InlineData("""{"prefixItems":[{"type":"integer"},{"type":"string"}],"items":false}""", "[1,\"a\",2]")]
    [InlineData("""{"allOf":[{"type":"object","required":["a"]},{"required":["b"]}]}""", """{"a":1}""")]
    [InlineData("""{"type":["string","null"],"maxLength":2}""", "\"abc\"")]
    public void Rejects_what_the_schema_forbids(string schema, string value)
    {
        using var s = JsonDocument.Parse(schema);
        using var v = JsonDocument.Parse(value);
        Assert.NotNull(new SchemaValidator(s.RootElement).Validate(v.RootElement));
    }

    [Theory]
    [InlineData("""{"type":"string","format":"date-time"}""", "\"2024-02-03T04:05:06Z\"")]
    [InlineData("""{"type":"string","format":"uuid"}""", "\"123e4567-e89b-12d3-a456-426614174000\"")]
    [InlineData("""{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}""", "-42")]
    [InlineData("""{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"A":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/definitions/A"},{"type":"null"}]}},"required":["next"],"additionalProperties":false}},"$ref":"#/definitions/A"}""", """{"next":{"next":null}}""")]
    [InlineData("""{"type":"string","format":"some-unknown-format"}""", "\"anything\"")]
    [InlineData("""{"type":"number","multipleOf":0.5,"x-custom":1}""", "1.5")]
    public void Accepts_what_the_schema_allows(string schema, string value)
    {
        using var s = JsonDocument.Parse(schema);
        using var v = JsonDocument.Parse(value);
        Assert.Null(new SchemaValidator(s.RootElement).Validate(v.RootElement));
    }

    /// <summary>zod and zod-to-json-schema write draft-07 ("items" as a tuple array); "$schema" is honoured wherever it sits.</summary>
    [Theory]
    [InlineData("""{"$schema":"http://json-schema.org/draft-07/schema#","type":"array","items":[{"type":"integer"},{"type":"string"}]}""")]
    [InlineData("""{"type":"array","items":[{"type":"integer"},{"type":"string"}],"$schema":"http://json-schema.org/draft-07/schema#"}""")]
    public void Draft_07_tuples_are_read_as_draft_07(string schema)
    {
        using var s = JsonDocument.Parse(schema);
        using var good = JsonDocument.Parse("""[1,"a"]""");
        using var bad = JsonDocument.Parse("""["a",1]""");
        var validator = new SchemaValidator(s.RootElement);
        Assert.Null(validator.Validate(good.RootElement));
        Assert.NotNull(validator.Validate(bad.RootElement));
    }

    /// <summary>Lengths count code points, as JSON Schema says (JsonSchema.Net alone counts grapheme clusters).</summary>
    [Theory]
    [InlineData("""{"type":"string","minLength":3}""", "\"}\u00C4\u0D02\"", true)]                 // 3 code points, 2 graphemes
    [InlineData("""{"type":"string","maxLength":1}""", "\"e\u0301\u0301\u0301\"", false)]         // 4 code points, 1 grapheme
    [InlineData("""{"type":"string","maxLength":1}""", "\"\uD83D\uDE00\"", true)]                  // 1 code point, 2 UTF-16 units
    [InlineData("""{"type":"string","minLength":2}""", "\"\uD83D\uDE00\"", false)]
    [InlineData("""{"type":"object","properties":{"minLength":{"type":"string","maxLength":2}},"required":["minLength"]}""", """{"minLength":"ab"}""", true)]
    [InlineData("""{"type":"object","properties":{"minLength":{"type":"string","maxLength":2}},"required":["minLength"]}""", """{"minLength":"abc"}""", false)]
    [InlineData("""{"$defs":{"s":{"type":"string","minLength":2,"maxLength":2}},"anyOf":[{"$ref":"#/$defs/s"},{"type":"null"}]}""", "\"a\u0301\"", true)]
    [InlineData("""{"enum":[{"minLength":5}],"$comment":"data, not a schema"}""", """{"minLength":5}""", true)]
    public void String_lengths_count_code_points(string schema, string value, bool valid)
    {
        using var s = JsonDocument.Parse(schema);
        using var v = JsonDocument.Parse(value);
        var error = new SchemaValidator(s.RootElement).Validate(v.RootElement);
        Assert.True(valid == (error is null), error ?? "valid");
    }
}
