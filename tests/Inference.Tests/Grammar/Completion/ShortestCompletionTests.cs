using System.Text;
using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Completion;

namespace Inference.Tests.Grammar.Completion;

/// <summary>
/// The shortest completions from llama.cpp's parse stacks, without a model: exact texts for small grammars,
/// and for every prefix of real documents the completion finishes a document the grammar accepts whole.
/// </summary>
public sealed class ShortestCompletionTests
{
    internal const string IssueSchema = """
        {"type":"object","properties":{"name":{"type":"string"},"color":{"type":"string","enum":["red","green","blue"]}}}
        """;

    internal const string NestedSchema = """
        {"type":"object","properties":{
          "id":{"type":"integer"},
          "tags":{"type":"array","items":{"type":"string","enum":["new","old"]},"minItems":1},
          "owner":{"type":"object","properties":{"name":{"type":"string","minLength":2},"age":{"type":"integer"}},"required":["name","age"]},
          "notes":{"type":"array","items":{"type":"object","properties":{"text":{"type":"string"},"ok":{"type":"boolean"}},"required":["ok"]}},
          "size":{"enum":["small","large",3,null]}
        },"required":["id","tags","owner","size"]}
        """;

    private static string Grammar(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return JsonGrammar.FromSchema(document.RootElement);
    }

    /// <summary>The completion after feeding <paramref name="prefix"/> to a closer (one token per character).</summary>
    private static string CompletionAfter(string grammar, string prefix)
    {
        var closer = new GrammarCloser(grammar, text => text.Length);
        foreach (var rune in prefix.EnumerateRunes())
        {
            var bytes = Encoding.UTF8.GetBytes(rune.ToString());
            Assert.Equal(CloseAction.Accept, closer.Next(bytes, 1_000_000).Action);
            Assert.False(closer.Lost, $"the follower lost '{prefix}' at '{rune}'");
        }
        return closer.Current().Text;
    }

    [Theory]
    [InlineData("root ::= \"ab\" | \"c\"", "", "c")]
    [InlineData("root ::= \"ab\" | \"c\"", "a", "b")]
    [InlineData("root ::= [x-z]+ \"!\"", "", "x!")]
    [InlineData("root ::= [^\"]* \"\\\"\"", "", "\"")]
    [InlineData("root ::= [^a0 x] \".\"", "", "A.")]
    [InlineData("root ::= \"(\" inner \")\"\ninner ::= \"[\" inner \"]\" | \"-\"", "([[", "-]])")]
    [InlineData("root ::= [5-7]{3}", "6", "55")]
    public void SmallGrammarsGetTheirShortestCompletion(string grammar, string prefix, string expected) =>
        Assert.Equal(expected, CompletionAfter(grammar, prefix));

    [Fact]
    public void TheIssuesSchemaClosesAnOpenString()
    {
        var grammar = Grammar(IssueSchema);
        Assert.Equal("{}", CompletionAfter(grammar, ""));
        Assert.Equal("\"}", CompletionAfter(grammar, "{\"name\": \"Tom"));
        Assert.Equal("red\"}", CompletionAfter(grammar, "{\"name\": \"Tom\", \"color\": \""));
        Assert.Equal("}", CompletionAfter(grammar, "{\"name\": \"Tom\", \"color\": \"green\""));
    }

    [Fact]
    public void TheJsonFormatClosesNestedValues()
    {
        Assert.Equal("{}", CompletionAfter(AnyJsonObject.Gbnf, ""));
        Assert.Equal("\"}}", CompletionAfter(AnyJsonObject.Gbnf, "{\"a\": {\"b\": \"x"));
        Assert.Equal("]}", CompletionAfter(AnyJsonObject.Gbnf, "{\"a\": [1, \"x\""));
    }

    public static TheoryData<string, string> Documents => new()
    {
        { IssueSchema, "{\"name\": \"Tom \u00e9t\u00e9 \U0001F600 \\u00e9\", \"color\": \"green\"}" },
        { NestedSchema, """{"id": -12, "tags": ["new", "old"], "owner": {"name": "Ann", "age": 3}, "size": null, "notes": [{"ok": true, "text": "a\"b"}]}""" },
    };

    /// <summary>Every prefix of a valid document (each code point), closed, is a document the grammar accepts and that parses.</summary>
    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryPrefixClosesToADocumentTheGrammarAccepts(string schema, string document)
    {
        var grammar = Grammar(schema);
        var matcher = ShortestCompletion.For(grammar).Matcher;
        Assert.True(matcher.Match(document).Complete, "the test document itself must match");
        var runes = document.EnumerateRunes().ToList();
        for (int i = 0; i <= runes.Count; i++)
        {
            var prefix = string.Concat(runes.Take(i).Select(r => r.ToString()));
            var closed = prefix + CompletionAfter(grammar, prefix);
            Assert.True(matcher.Match(closed).Complete, $"not matched: {closed}");
            using var _ = JsonDocument.Parse(closed);
        }
    }

    /// <summary>
    /// Budget arithmetic with one token per byte: a token is accepted while the completion after it fits in the
    /// tokens left after it, otherwise the current completion is emitted instead.
    /// </summary>
    [Fact]
    public void ATokenWhoseCompletionNoLongerFitsIsReplacedByTheCurrentCompletion()
    {
        var closer = new GrammarCloser(Grammar(IssueSchema), text => Encoding.UTF8.GetByteCount(text));
        // "{" leaves "}" (1 token) to close: fits in 1.
        Assert.Equal(CloseAction.Accept, closer.Next("{"u8, 1).Action);
        // "\"name\"" would need at least ': ""}' after it; with 3 left it does not fit: close with "}".
        var decision = closer.Next("\"name\""u8, 3);
        Assert.Equal(new CloseDecision(CloseAction.CloseInstead, "}", 1), decision);
        // The state did not move: the completion is still "}".
        Assert.Equal(("}", 1), closer.Current());
    }

    /// <summary>A cap below the shortest document: tokens are taken while they bring the end closer, so the total never exceeds the shortest document's.</summary>
    [Fact]
    public void BelowTheShortestDocumentOnlyTokensThatBringTheEndCloserAreTaken()
    {
        var closer = new GrammarCloser(Grammar(IssueSchema), text => Encoding.UTF8.GetByteCount(text));
        Assert.Equal(("{}", 2), closer.Current());
        // Cap 1: "{" leaves "}" (1 token), so 1 + 1 <= 2: taken although 1 token does not fit in the 0 left.
        Assert.Equal(CloseAction.Accept, closer.Next("{"u8, 0).Action);
        // '"' would leave '":""}' (5 tokens): no closer to the end, so "}" is emitted instead.
        Assert.Equal(new CloseDecision(CloseAction.CloseInstead, "}", 1), closer.Next("\""u8, -1));
        // "}" itself finishes the document: taken.
        Assert.Equal(CloseAction.Accept, closer.Next("}"u8, -1).Action);
        Assert.Equal(("", 0), closer.Current());
    }

    [Fact]
    public void ACharacterSplitAcrossTokensIsFollowedAndNeverCutWhenTheBudgetIsTight()
    {
        var grammar = Grammar(IssueSchema);
        var closer = new GrammarCloser(grammar, text => Encoding.UTF8.GetByteCount(text));
        Assert.Equal(CloseAction.Accept, closer.Next("{\"name\": \"x"u8, 100).Action);
        var euro = "\u20ac"u8.ToArray();
        // The first byte of a 3-byte character with only 2 tokens left after it: its rest (2) and the close ("}, 2) cannot both fit.
        Assert.Equal(CloseAction.CloseInstead, closer.Next(euro.AsSpan(0, 1), 2).Action);
        // With room it is accepted, and the character is completed by the next token.
        Assert.Equal(CloseAction.Accept, closer.Next(euro.AsSpan(0, 1), 10).Action);
        // The rest of the character with no room left: it is sent anyway (its first byte is out), then the close.
        Assert.Equal(new CloseDecision(CloseAction.CloseAfter, "\"}", 2), closer.Next(euro.AsSpan(1), 0));
        Assert.False(closer.Lost);
    }

    [Fact]
    public void TextOutsideTheGrammarLosesTrackInsteadOfClosingWrongly()
    {
        var closer = new GrammarCloser(Grammar(IssueSchema), text => text.Length);
        Assert.Equal(CloseAction.Accept, closer.Next("x"u8, 10).Action);
        Assert.True(closer.Lost);
    }
}
