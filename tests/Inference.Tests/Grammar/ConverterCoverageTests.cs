using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Checking;
using Inference.Engine.Tools;

namespace Inference.Tests.Grammar;

/// <summary>
/// Which documents the converted grammar accepts and which it rejects, per keyword: asked of the managed matcher
/// and of llama.cpp's own grammar sampler (the stories model, fed byte by byte), which must agree.
/// </summary>
public sealed class ConverterCoverageTests(GrammarModels models) : IClassFixture<GrammarModels>
{
    private sealed record Case(string Schema, string[] Accepts, string[] Rejects);

    private const string Zod = """{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}""";

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["integer range"] = new("""{"type":"integer","minimum":-5,"maximum":1000}""",
            ["-5", "-1", "0", "7", "10", "99", "100", "999", "1000"], ["-6", "1001", "01", "-0", "1.5", "10000", "\"5\""]),
        ["integer exclusive bounds"] = new("""{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10}""",
            ["1", "5", "9"], ["0", "10", "-1", "11"]),
        ["zod safe integer"] = new(Zod,
            ["-9007199254740991", "9007199254740991", "9007199254740990", "0", "42", "-1", "1000000000000000"],
            ["9007199254740992", "-9007199254740992", "9007199254740999", "10000000000000000", "-0", "007"]),
        ["integer minimum only"] = new("""{"type":"integer","minimum":5}""",
            ["5", "6", "10", "123", "9999999999999999"], ["4", "0", "-1", "-5", "05"]),
        ["integer maximum only"] = new("""{"type":"integer","maximum":-3}""",
            ["-3", "-4", "-10", "-9999999999999999"], ["-2", "0", "3", "-0"]),
        ["integer draft-4 exclusive"] = new("""{"type":"integer","minimum":0,"exclusiveMinimum":true,"maximum":3,"exclusiveMaximum":true}""",
            ["1", "2"], ["0", "3"]),
        ["integer fractional bounds"] = new("""{"type":"integer","minimum":0.5,"maximum":3.5}""",
            ["1", "2", "3"], ["0", "4"]),
        ["integer bounds as floats and exponents"] = new("""{"type":"integer","minimum":1e2,"maximum":2.0E2}""",
            ["100", "150", "200"], ["99", "201"]),
        ["number unit range"] = new("""{"type":"number","minimum":0,"maximum":1}""",
            ["0", "1", "0.5", "0.999", "1.0", "1.00", "0.0000000000000001"], ["1.01", "-0.1", "2", "1e0", "1.0000000000000001"]),
        ["number fractional bounds"] = new("""{"type":"number","minimum":-1.5,"maximum":2.25}""",
            ["-1.5", "-1.49", "-1", "0", "2.25", "2.2", "2.24999", "-0.5"], ["-1.51", "-1.500001", "2.26", "2.250001", "3", "-2"]),
        ["number exclusive minimum"] = new("""{"type":"number","exclusiveMinimum":0}""",
            ["0.1", "0.0000000000000001", "5", "123.456"], ["0", "0.0", "-1", "-0.5"]),
        ["number narrow range"] = new("""{"type":"number","minimum":0.1,"maximum":0.2}""",
            ["0.1", "0.15", "0.2", "0.199", "0.10"], ["0.09", "0.21", "0", "0.2000001", "1"]),
        ["number exclusive maximum"] = new("""{"type":"number","minimum":10,"exclusiveMaximum":20}""",
            ["10", "19.9999", "15"], ["20", "20.0", "9.99", "21"]),
        ["pattern classes and counts"] = new("""{"type":"string","pattern":"^[A-Z]{3}-\\d{2,4}$"}""",
            ["\"ABC-12\"", "\"XYZ-1234\""], ["\"AB-12\"", "\"ABC-1\"", "\"abc-12\"", "\"ABC-12345\""]),
        ["pattern groups and alternation"] = new("""{"type":"string","pattern":"^(foo|bar)+(?:baz)?$"}""",
            ["\"foo\"", "\"foobar\"", "\"barbaz\""], ["\"baz\"", "\"\"", "\"fooba\"", "\"foo baz\""]),
        ["pattern unanchored"] = new("""{"type":"string","pattern":"a.c"}""",
            ["\"abc\"", "\"xxa-cyy\""], ["\"ac\"", "\"abbc\"", "\"a\\nc\""]),
        ["pattern with a quote and backslash"] = new("""{"type":"string","pattern":"^\"[a-z]\\\\$"}""",
            ["\"\\\"a\\\\\""], ["\"a\"", "\"\\\"a\""]),
        ["pattern whitespace class"] = new("""{"type":"string","pattern":"^a\\sb$"}""",
            ["\"a b\"", "\"a\\tb\"", "\"a\\nb\""], ["\"ab\"", "\"a  b\""]),
        ["pattern negated class"] = new("""{"type":"string","pattern":"^[^0-9]+$"}""",
            ["\"ab\"", "\"é!\""], ["\"a1\"", "\"\""]),
        ["pattern with maxLength"] = new("""{"type":"string","pattern":"^[a-z]+$","minLength":2,"maxLength":3}""",
            ["\"ab\"", "\"abc\""], ["\"a\"", "\"abcd\"", "\"\""]),
        ["pattern repeating what can be empty"] = new("""{"type":"string","pattern":"^(a*b?)+c$"}""",
            ["\"c\"", "\"aaabac\"", "\"bbc\""], ["\"\"", "\"ca\"", "\"abd\""]),
        ["zod 4 uuid pattern"] = new("""{"type":"string","format":"uuid","pattern":"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000)$"}""",
            // The format's strict RFC 4122 form is generated (it matches the pattern); the nil uuid is not.
            ["\"123e4567-e89b-42d3-a456-426614174000\""], ["\"123e4567-e89b-02d3-a456-426614174000\"", "\"123e4567-e89b-42d3-c456-426614174000\"", "\"00000000-0000-0000-0000-000000000000\"", "\"123e4567\""]),
        ["zod 4 email pattern with lookahead falls back to the format"] = new("""{"type":"string","format":"email","pattern":"^(?!\\.)(?!.*\\.\\.)([A-Za-z0-9_'+\\-\\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$"}""",
            ["\"tom@example.com\""], ["\"tom\"", "\"tom@example\""]),
        ["pattern outside the subset is ignored"] = new("""{"type":"string","pattern":"^(?=a)\\w+\\1$","maxLength":4}""",
            ["\"zzz\"", "\"\""], ["\"zzzzz\""]),
        ["format email"] = new("""{"type":"string","format":"email"}""",
            ["\"a.b@example.com\"", "\"x+y@mail.example.org\""], ["\"a@b\"", "\"@x.com\"", "\"a b@x.com\"", "\"a@.com\"", "\"a!b@x.com\"", "\"a..b@x.com\"", "\".a@x.com\"",
             "\"abcdefghijklmnopq@x.com\"", "\"a.b.c.d@x.com\"", "\"a@b.c.d.e.com\""]),
        ["format uri"] = new("""{"type":"string","format":"uri"}""",
            // http and https URLs only: other schemes are valid URIs, but not every checker takes them ("a:a").
            ["\"https://example.com/x?y=1#z\"", "\"http://a/%20b\"", "\"http://a\""], ["\"urn:isbn:123\"", "\"a:a\"", "\"no scheme\"", "\"http://a b\"", "\"1http://x\"", "\"http:\"", "\"http://\""]),
        ["format date-time"] = new("""{"type":"string","format":"date-time"}""",
            ["\"2024-02-28T12:30:00Z\"", "\"2024-12-31T23:59:59.123Z\""],
            ["\"2024-02-28\"", "\"2024-13-01T00:00:00Z\"", "\"2024-02-29T12:30:00Z\"", "\"2024-04-31T00:00:00Z\"", "\"0000-01-01T00:00:00Z\"",
             "\"2024-02-28T12:30Z\"", "\"2024-02-28T12:30:00+02:00\"", "\"2024-02-28T24:00:00Z\""]),
        ["format date"] = new("""{"type":"string","format":"date"}""",
            ["\"2024-01-31\"", "\"1999-04-30\"", "\"1000-02-28\""], ["\"2024-04-31\"", "\"1200-02-31\"", "\"0000-01-01\"", "\"0999-01-01\"", "\"2024-00-10\"", "\"2024-02-29\""]),
        ["format date-time next to zod's pattern"] = new("""{"type":"string","format":"date-time","pattern":"^(?:\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))T(?:(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d+)?)?(?:Z))$"}""",
            ["\"2024-02-28T12:30:00Z\""], ["\"2024-02-28T12:30Z\""]),
        ["format time"] = new("""{"type":"string","format":"time"}""",
            ["\"12:30:00Z\"", "\"23:59:59.5+02:00\""], ["\"12:30\"", "\"24:00:00Z\"", "\"12:30:00\""]),
        ["prefixItems closed"] = new("""{"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":false}""",
            ["[]", "[1]", "[1,\"a\"]"], ["[1,\"a\",2]", "[\"a\"]", "[1,2]"]),
        ["prefixItems with minItems and items"] = new("""{"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":{"type":"boolean"},"minItems":2,"maxItems":3}""",
            ["[1,\"a\"]", "[1,\"a\",true]"], ["[1]", "[1,\"a\",true,false]", "[1,\"a\",3]"]),
        ["prefixItems with maxItems 0"] = new("""{"type":"array","prefixItems":[{"type":"null"}],"maxItems":0}""",
            ["[]"], ["[null]"]),
        ["tuple items (draft 2019)"] = new("""{"type":"array","items":[{"const":"x"},{"type":"null"}],"additionalItems":false}""",
            ["[\"x\",null]", "[\"x\"]"], ["[\"x\",null,1]", "[null]"]),
        ["additionalProperties true next to properties"] = new("""{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":true}""",
            ["{\"a\":1}", "{\"a\":1,\"b\":\"x\"}", "{\"a\":1,\"ab\":[]}"], ["{\"a\":1,\"a\":2}", "{\"b\":1}", "{}"]),
        ["additionalProperties schema next to optional properties"] = new("""{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"additionalProperties":{"type":"integer"}}""",
            ["{}", "{\"x\":1}", "{\"id\":1,\"x\":2,\"idx\":3,\"i\":4,\"\":5}", "{\"name\":\"n\"}"], ["{\"x\":\"s\"}", "{\"id\":1,\"id\":2}", "{\"x\":1,\"name\":2}"]),
        ["false property schema"] = new("""{"type":"object","properties":{"a":false,"b":{"type":"null"}},"additionalProperties":{"type":"null"}}""",
            ["{}", "{\"b\":null}", "{\"c\":null}", "{\"ab\":null}"], ["{\"a\":null}", "{\"b\":null,\"a\":null}"]),
        ["required without properties"] = new("""{"type":"object","required":["a"],"additionalProperties":{"type":"boolean"}}""",
            ["{\"a\":true}", "{\"a\":false,\"b\":true}"], ["{}", "{\"a\":1}", "{\"b\":true}"]),
        ["allOf objects"] = new("""{"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"properties":{"b":{"type":"string"}},"required":["b"]}]}""",
            ["{\"a\":1,\"b\":\"x\"}"], ["{\"a\":1}", "{\"b\":\"x\"}", "{}"]),
        ["allOf bounds intersect"] = new("""{"allOf":[{"type":"integer","minimum":0},{"maximum":10},{"type":["integer","null"],"minimum":-5}]}""",
            ["0", "10", "5"], ["11", "-1", "null"]),
        ["allOf with a $ref"] = new("""{"$defs":{"Base":{"type":"object","properties":{"id":{"type":"integer","minimum":1}},"required":["id"]}},"allOf":[{"$ref":"#/$defs/Base"},{"properties":{"name":{"type":"string","maxLength":3}},"required":["name"]}]}""",
            ["{\"id\":1,\"name\":\"abc\"}"], ["{\"id\":0,\"name\":\"a\"}", "{\"id\":1}", "{\"id\":1,\"name\":\"abcd\"}"]),
        ["allOf enums intersect"] = new("""{"allOf":[{"enum":[1,2,3]},{"enum":[2,3,4]}]}""",
            ["2", "3"], ["1", "4"]),
        ["anyOf with sibling keywords"] = new("""{"type":"integer","anyOf":[{"minimum":10},{"maximum":-10}]}""",
            ["10", "-10", "99"], ["0", "9", "\"x\""]),
        ["anyOf branch contradicting its siblings"] = new("""{"type":"string","anyOf":[{"minLength":1},{"type":"null"}]}""",
            ["\"a\""], ["null", "\"\""]),
        ["pydantic optional"] = new("""{"anyOf":[{"type":"integer","minimum":0},{"type":"null"}],"default":null,"title":"Age"}""",
            ["1", "null", "0"], ["-1", "\"x\""]),
        ["$ref with siblings"] = new("""{"$defs":{"S":{"type":"string"}},"$ref":"#/$defs/S","maxLength":2}""",
            ["\"ab\"", "\"\""], ["\"abc\"", "1"]),
        ["recursive $ref with siblings"] = new("""{"$defs":{"Node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"$ref":"#/$defs/Node","description":"x","nullable":true}},"required":["v"]}},"$ref":"#/$defs/Node","maxProperties":2}""",
            ["{\"v\":1}", "{\"v\":1,\"next\":{\"v\":2}}"], ["{}", "{\"v\":1,\"next\":{}}"]),
        ["OpenAPI nullable"] = new("""{"type":"integer","nullable":true,"maximum":3}""",
            ["null", "3", "-7"], ["4", "\"x\""]),
        ["nullable type array"] = new("""{"type":["string","null"],"maxLength":2}""",
            ["null", "\"ab\""], ["\"abc\"", "1"]),
        ["const object"] = new("""{"const":{"a":[1,2]}}""",
            ["{\"a\":[1,2]}"], ["{\"a\":[1]}", "{}"]),
        ["ignored keywords"] = new("""{"type":"array","items":{"type":"integer","multipleOf":3},"uniqueItems":true,"contains":{"const":3},"maxItems":2}""",
            ["[]", "[1,1]", "[3]"], ["[1,2,3]", "[\"a\"]"]),
        ["not, if/then/else and dependentRequired ignored"] = new("""{"type":"object","properties":{"a":{"type":"integer","not":{"const":1}}},"if":{"required":["a"]},"then":{"maxProperties":0},"dependentRequired":{"a":["b"]},"unevaluatedProperties":false}""",
            ["{}", "{\"a\":1}"], ["{\"a\":\"x\"}"]),
        ["untyped keywords infer the type"] = new("""{"properties":{"n":{"minimum":1,"maximum":2},"s":{"maxLength":1},"a":{"maxItems":1}},"required":["n","s","a"]}""",
            ["{\"n\":1.5,\"s\":\"x\",\"a\":[]}"], ["{\"n\":3,\"s\":\"x\",\"a\":[]}", "{\"n\":1,\"s\":\"xy\",\"a\":[]}"]),
    };

    public static TheoryData<string> Names() => new(Cases.Keys);

    private static string Convert(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return JsonGrammar.FromSchema(document.RootElement);
    }

    private static bool ManagedMatch(string grammar, string text) => new GbnfMatcher(GbnfParser.Parse(grammar, "root")).Match(text).Complete;

    [Theory]
    [MemberData(nameof(Names))]
    public void TheGrammarAcceptsExactlyTheValidDocuments(string name)
    {
        var c = Cases[name];
        var grammar = Convert(c.Schema);
        Assert.True(GbnfChecker.Check(grammar).IsUsable);
        var wrong = new List<string>();
        foreach (var (text, expected) in c.Accepts.Select(t => (t, true)).Concat(c.Rejects.Select(t => (t, false))))
        {
            // Accepted documents are valid for the schema, except where a case shows that a keyword is ignored.
            var managed = ManagedMatch(grammar, text);
            var native = LlamaGrammarMatch.Matches(models.Stories, grammar, text);
            if (managed != expected || native != expected) wrong.Add($"{text}: expected {(expected ? "accepted" : "rejected")}, managed {managed}, llama.cpp {native}");
        }
        Assert.True(wrong.Count == 0, $"{name}\n{string.Join("\n", wrong)}\n{grammar}");
    }

    [Theory]
    [InlineData("""{"type":"strnig"}""", "type", "#")]
    [InlineData("""{"type":"string","minLength":-1}""", "minLength", "#")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"array","maxItems":1.5}}}""", "maxItems", "#/properties/a")]
    [InlineData("""{"type":"object","required":"a"}""", "required", "#")]
    [InlineData("""{"type":"object","required":[1]}""", "required", "#")]
    [InlineData("""{"$ref":"#/$defs/Missing"}""", "$ref", "#")]
    [InlineData("""{"$ref":"https://example.com/schema.json"}""", "$ref", "#")]
    [InlineData("""{"enum":[]}""", "enum", "#")]
    [InlineData("""{"type":"number","multipleOf":0}""", "multipleOf", "#")]
    [InlineData("""{"type":"integer","minimum":"5"}""", "minimum", "#")]
    [InlineData("""{"anyOf":[]}""", "anyOf", "#")]
    [InlineData("""{"type":"string","pattern":5}""", "pattern", "#")]
    [InlineData("""{"allOf":[{"type":"string"},{"type":"integer"}]}""", "type", "#/allOf/1")]
    [InlineData("""{"type":"integer","minimum":10,"maximum":5}""", "maximum", "#")]
    [InlineData("""{"type":"object","properties":{"a":false},"required":["a"]}""", "false", "#/properties/a")]
    [InlineData("""{"type":"string","minLength":3,"maxLength":2}""", "maxLength", "#")]
    [InlineData("""{"$defs":{"a":{"allOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""", "$ref", "#/$defs/a/allOf/0")]
    public void InvalidOrUnsatisfiableSchemasAreRefused(string schema, string keyword, string path)
    {
        var ex = Assert.Throws<SchemaNotSupportedException>(() => Convert(schema));
        Assert.Equal(keyword, ex.Keyword);
        Assert.Equal(path, ex.Path);
    }

    /// <summary>The exact digit-range grammar for a small range, as llama.cpp's build_min_max_int shapes it.</summary>
    [Fact]
    public void IntegerRangeGrammarText()
    {
        var grammar = Convert("""{"type":"integer","minimum":-5,"maximum":1000}""");
        Assert.Equal("root ::= integer-m5-1000\ninteger-m5-1000 ::= \"-\" ([1-5]) | [0-9] | [1-9] [0-9] | [1-9] [0-9]{2} | \"1000\"\n", grammar);
    }

    [Fact]
    public void ZodBoundsStayWellWithinTheGrammarLimits()
    {
        var verdict = GbnfChecker.Check(Convert($$"""{"type":"object","properties":{"name":{"type":"string"},"age":{{Zod}}},"required":["name","age"],"additionalProperties":false}"""));
        Assert.True(verdict.IsUsable, verdict.Message);
        Assert.True(verdict.Elements < 2_000, $"{verdict.Elements} elements");
    }

    /// <summary>Tool calls use the same converter: zod-style parameters are enforced, not replaced by any object.</summary>
    [Fact]
    public void ToolParametersWithRangesAndPatternsAreEnforced()
    {
        const string tools = $$$$"""
            [{"type":"function","function":{"name":"book","parameters":{"type":"object","properties":{"seats":{{{{Zod}}}},"code":{"type":"string","pattern":"^[A-Z]{3}$"}},"required":["seats","code"],"additionalProperties":false}}}]
            """;
        Assert.True(ToolDefinition.TryParseList(JsonDocument.Parse(tools).RootElement, out var definitions, out _));
        var format = new ToolCallFormat("[TOOL_CALLS] [", ", ", "]", "{\"name\": \"", "\", \"arguments\": ", "}");
        var grammar = ToolCallGrammar.Build(format, definitions, allowText: false, maxCalls: 1);
        Assert.DoesNotContain("bounded-object", grammar, StringComparison.Ordinal);
        var call = "[TOOL_CALLS] [{\"name\": \"book\", \"arguments\": {\"seats\": 2, \"code\": \"ABC\"}}]";
        Assert.True(ManagedMatch(grammar, call));
        Assert.True(LlamaGrammarMatch.Matches(models.Stories, grammar, call));
        Assert.False(ManagedMatch(grammar, call.Replace("ABC", "abc", StringComparison.Ordinal)));
        Assert.False(ManagedMatch(grammar, call.Replace("2,", "9007199254740992,", StringComparison.Ordinal)));
    }

    /// <summary>A pattern whose grammar would break the size bounds is ignored (the string is unconstrained), never a refusal.</summary>
    [Fact]
    public void APatternTooLargeForTheBoundsIsIgnored()
    {
        // 2500 distinct runs of 1000 copies: llama.cpp would expand them to 2.5 million elements.
        var pattern = "^" + string.Concat(Enumerable.Repeat("[a-z]{1000}", 2500)) + "$";
        var grammar = Convert($$"""{"type":"string","pattern":"{{pattern}}"}""");
        Assert.Equal("root ::= string\nstring ::= \"\\\"\" char* \"\\\"\"\n", grammar[..grammar.IndexOf("char ::=", StringComparison.Ordinal)]);
    }

    /// <summary>
    /// Group nesting is bounded (a pattern nested deeper is ignored) and each node's lengths are worked out once:
    /// 30 nested optional groups convert at once and are enforced (each level used to ask its child twice: 2^30 steps).
    /// </summary>
    [Fact]
    public async Task NestedGroupsAreConvertedOnceAndDeepNestingIsIgnored()
    {
        var nested = "^" + new string('(', 30) + "a" + string.Concat(Enumerable.Repeat(")?", 30)) + "$";
        var converted = await Task.Run(() => Convert($$"""{"type":"string","pattern":"{{nested}}"}""")).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(ManagedMatch(converted, "\"a\""));
        Assert.True(ManagedMatch(converted, "\"\""));
        Assert.False(ManagedMatch(converted, "\"aa\""));

        // 100,000 levels would exhaust the stack of a recursive parser and kill the process.
        var deep = new string('(', 100_000) + "a" + new string(')', 100_000);
        var grammar = Convert($$"""{"type":"string","pattern":"{{deep}}","maxLength":2}""");
        Assert.True(ManagedMatch(grammar, "\"zz\""));
        Assert.False(ManagedMatch(grammar, "\"zzz\""));
    }

    /// <summary>A pattern longer than <see cref="PatternConverter.MaxPatternLength"/> is ignored before it is parsed.</summary>
    [Fact]
    public void AnOverlongPatternIsIgnored()
    {
        var pattern = "^" + new string('a', PatternConverter.MaxPatternLength) + "$";
        var grammar = Convert($$"""{"type":"string","pattern":"{{pattern}}"}""");
        Assert.Equal("root ::= string\nstring ::= \"\\\"\" char* \"\\\"\"\n", grammar[..grammar.IndexOf("char ::=", StringComparison.Ordinal)]);
    }
}
