using System.Text;
using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Checking;

namespace Inference.Tests.Grammar;

/// <summary>
/// Counts beyond llama.cpp's repetition limit (2000) are expressed exactly and unambiguously: the counts at and
/// around every bound are accepted or rejected as the schema says, by llama.cpp's own sampler and by the managed
/// mirror of its matching, which also shows how many parse stacks llama.cpp keeps (a handful, not one per split).
/// </summary>
public sealed class LargeBoundsTests(GrammarModels models) : IClassFixture<GrammarModels>
{
    /// <summary>
    /// Parse stacks llama.cpp may hold at once while following a counted repetition: a constant (a few per chunk
    /// level, times the ways the optional whitespace and a number may end: 49 for the huge map below), whatever
    /// the count. Ambiguous nestings would hold one per way of splitting the copies, growing with the count.
    /// </summary>
    private const int MaxStacks = 64;

    public static TheoryData<int, int?> Bounds() => new()
    {
        { 0, 1 }, { 3, 3 }, { 0, 1000 }, { 0, 1001 }, { 999, 2001 }, { 2000, 2000 }, { 2001, 2001 }, { 0, 2999 },
        { 1500, null }, { 2345, 4567 }, { 0, 5000 }, { 3000, null },
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public void RepetitionAcceptsExactlyTheCountsInItsBounds(int min, int? max)
    {
        var rules = new GbnfRules();
        var item = rules.Named("x", "\"x\"");
        var grammar = rules.Render(GbnfRepetition.Of(rules, item, min, max));
        Assert.True(GbnfChecker.Check(grammar).IsUsable, GbnfChecker.Check(grammar).Message);
        var matcher = new GbnfMatcher(GbnfParser.Parse(grammar, "root"));

        var counts = new[] { 0, 1, min - 1, min, min + 1, (min + (max ?? min + 10)) / 2, (max ?? min + 1000) - 1, max ?? min + 1000, (max ?? min + 1000) + 1 };
        foreach (var n in counts.Where(n => n >= 0).Distinct())
        {
            bool inBounds = n >= min && (max is null || n <= max);
            var (complete, stacks) = matcher.Match(new string('x', n));
            Assert.True(inBounds == complete, $"{n} copies: expected {(inBounds ? "a match" : "no match")}");
            Assert.True(stacks <= MaxStacks, $"{n} copies: {stacks} parse stacks");
        }
        // llama.cpp itself, at the edges.
        foreach (var n in new[] { min - 1, min, max ?? min + 5, (max ?? min + 5) + 1 }.Where(n => n >= 0).Distinct())
        {
            bool inBounds = n >= min && (max is null || n <= max);
            Assert.True(inBounds == LlamaGrammarMatch.Matches(models.Stories, grammar, new string('x', n)), $"llama.cpp, {n} copies");
        }
    }

    [Theory]
    [InlineData("""{"type":"string","maxLength":2001}""", 2001, 2002)]
    [InlineData("""{"type":"string","maxLength":5000}""", 5000, 5001)]
    [InlineData("""{"type":"string","minLength":3000}""", 3000, 2999)]
    [InlineData("""{"type":"string","minLength":2500,"maxLength":2500}""", 2500, 2501)]
    public void LongStringBoundsHold(string schema, int valid, int invalid)
    {
        var grammar = Convert(schema);
        Assert.True(LlamaGrammarMatch.Matches(models.Stories, grammar, Quoted(valid)), "llama.cpp rejects the valid string");
        Assert.False(LlamaGrammarMatch.Matches(models.Stories, grammar, Quoted(invalid)), "llama.cpp accepts the invalid string");
        int stacks = Stacks(grammar, Quoted(valid));
        Assert.True(stacks <= MaxStacks, $"{stacks} parse stacks");
    }

    [Theory]
    [InlineData("""{"type":"array","items":{"const":0},"minItems":2500}""", 2500, 2499)]
    [InlineData("""{"type":"array","items":{"type":"integer"},"minItems":2001}""", 2001, 2000)]
    [InlineData("""{"type":"array","items":{"const":0},"minItems":2345,"maxItems":2345}""", 2345, 2346)]
    [InlineData("""{"type":"array","items":{"const":0},"maxItems":2147483647}""", 3000, -1)]
    public void LongArrayBoundsHold(string schema, int valid, int invalid)
    {
        var grammar = Convert(schema);
        Assert.True(LlamaGrammarMatch.Matches(models.Stories, grammar, Array(valid)), "llama.cpp rejects the valid array");
        if (invalid >= 0) Assert.False(LlamaGrammarMatch.Matches(models.Stories, grammar, Array(invalid)), "llama.cpp accepts the invalid array");
        int stacks = Stacks(grammar, Array(valid));
        Assert.True(stacks <= MaxStacks, $"{stacks} parse stacks");
    }

    [Fact]
    public void HugeMapBoundsHold()
    {
        var grammar = Convert("""{"type":"object","additionalProperties":{"type":"integer"},"maxProperties":2147483647,"propertyNames":{"type":"string","maxLength":100000}}""");
        var keys = Enumerable.Range(0, 40).Select(i => $"\"{new string('k', 2500 + i)}\": {i}");
        var text = "{" + string.Join(", ", keys) + "}";
        Assert.True(LlamaGrammarMatch.Matches(models.Stories, grammar, text), "llama.cpp rejects the valid map");
        int stacks = Stacks(grammar, text);
        Assert.True(stacks <= MaxStacks, $"{stacks} parse stacks");
    }

    /// <summary>Many large, different bounds add up: past the checker's size bounds the schema is refused (a 400), not sent on.</summary>
    [Fact]
    public void A_schema_whose_grammar_would_be_too_large_is_refused()
    {
        var properties = string.Join(",", Enumerable.Range(0, 600).Select(i => $"\"p{i}\":{{\"type\":\"string\",\"maxLength\":{1500 + i}}}"));
        using var document = JsonDocument.Parse($"{{\"type\":\"object\",\"properties\":{{{properties}}}}}");
        var ex = Assert.Throws<SchemaNotSupportedException>(() => JsonGrammar.FromSchema(document.RootElement));
        Assert.Equal("schema", ex.Keyword);
        Assert.Equal("#", ex.Path);
        Assert.Contains($"its grammar would exceed the size bounds for llama.cpp grammars: more than {GbnfLimits.MaxSymbols} symbols", ex.Message, StringComparison.Ordinal);
    }

    private static string Convert(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        var grammar = JsonGrammar.FromSchema(document.RootElement);
        Assert.True(GbnfChecker.Check(grammar).IsUsable);
        return grammar;
    }

    private static int Stacks(string grammar, string text) => new GbnfMatcher(GbnfParser.Parse(grammar, "root")).Match(text).MaxStacks;

    private static string Quoted(int length) => "\"" + new string('a', length) + "\"";

    private static string Array(int items) => new StringBuilder("[").AppendJoin(",", Enumerable.Repeat("0", items)).Append(']').ToString();
}
