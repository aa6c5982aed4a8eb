using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>How identifiers reach SQL, JSON and GBNF, and what the grammar text offers (no model needed).</summary>
public sealed class SqlGrammarTextTests
{
    [Theory]
    [InlineData("users", "users")]
    [InlineData("order_items2", "order_items2")]
    [InlineData("Users", "\"Users\"")]
    [InlineData("order items", "\"order items\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("user", "\"user\"")]      // reserved
    [InlineData("left", "\"left\"")]      // type/function-name keyword: "SELECT left FROM t" is a syntax error
    [InlineData("time", "\"time\"")]      // column-name keyword
    [InlineData("status", "status")]      // unreserved keyword: fine bare
    [InlineData("2fa", "\"2fa\"")]
    [InlineData("größe", "\"größe\"")]
    public void QuotesOnlyWhatPostgresNeedsQuoted(string name, string expected) => Assert.Equal(expected, SqlGrammarIdentifiers.Quote(name));

    [Fact]
    public void JsonEscapesQuotesBackslashesAndControlCharacters() =>
        Assert.Equal("\\\"a\\\\b\\\"\\n\\t\\u0001é", SqlGrammarIdentifiers.JsonEscape("\"a\\b\"\n\t\u0001é"));

    [Theory]
    [InlineData("integer", SqlGrammarColumnKind.Number)]
    [InlineData("numeric(10,2)", SqlGrammarColumnKind.Number)]
    [InlineData("double precision", SqlGrammarColumnKind.Number)]
    [InlineData("character varying(200)", SqlGrammarColumnKind.Text)]
    [InlineData("character(2)", SqlGrammarColumnKind.Text)]
    [InlineData("boolean", SqlGrammarColumnKind.Boolean)]
    [InlineData("timestamp(3) with time zone", SqlGrammarColumnKind.Date)]
    [InlineData("date", SqlGrammarColumnKind.Date)]
    [InlineData("uuid", SqlGrammarColumnKind.Uuid)]
    [InlineData("integer[]", SqlGrammarColumnKind.Other)]
    [InlineData("jsonb", SqlGrammarColumnKind.Other)]
    [InlineData("time without time zone", SqlGrammarColumnKind.Other)]
    [InlineData("\"char\"", SqlGrammarColumnKind.Other)]
    [InlineData("mood", SqlGrammarColumnKind.Other)]
    public void ClassifiesColumnTypes(string type, SqlGrammarColumnKind kind) => Assert.Equal(kind, SqlGrammarColumnKinds.Classify(type));

    [Fact]
    public void IdentifiersAppearSqlQuotedJsonEscapedAndGbnfEscaped()
    {
        var grammar = SqlGrammar.ForStatement(SqlSchemaCorpus.Schemas["odd names"]).Gbnf;
        // "Order Items" → SQL "Order Items" → JSON \"Order Items\" → GBNF literal "\\\"Order Items\\\"".
        Assert.Contains("\"\\\\\\\"Order Items\\\\\\\"\"", grammar);
        // Note"s → SQL "Note""s" → JSON \"Note\"\"s\" → GBNF \\\"Note\\\"\\\"s\\\"
        Assert.Contains("\\\\\\\"Note\\\\\\\"\\\\\\\"s\\\\\\\"", grammar);
        // back\slash → JSON back\\slash → GBNF back\\\\slash
        Assert.Contains("back\\\\\\\\slash", grammar);
        Assert.StartsWith("root ::= ", grammar);
    }

    [Fact]
    public void JoinsFollowForeignKeysOnlyAndNeverSelfReferences()
    {
        var grammar = SqlGrammar.ForStatement(SqlSchemaCorpus.Schemas["shop"]).Gbnf;
        Assert.Contains("\"users ON orders.user_id = users.id\"", grammar);
        Assert.Contains("\"products ON order_items.product_id = products.id\"", grammar);
        Assert.DoesNotContain("users ON products", grammar);
        var odd = SqlGrammar.ForStatement(SqlSchemaCorpus.Schemas["odd names"]).Gbnf;
        Assert.DoesNotContain(".manager = ", odd); // user.manager → user.id would need aliases
    }

    [Fact]
    public void TheTokenBoundCoversTheLongestAnswer()
    {
        var small = SqlGrammar.ForStatement(SqlSchemaCorpus.Schemas["shop"].Take(1).ToList());
        var all = SqlGrammar.ForStatement(SqlSchemaCorpus.Schemas["shop"]);
        var explanationOnly = SqlGrammar.ForExplanation();
        Assert.Equal("{\"explanation\": \"\"}".Length + SqlGrammar.ExplainChars, explanationOnly.MaxTokens);
        Assert.True(small.MaxTokens < all.MaxTokens, $"{small.MaxTokens} vs {all.MaxTokens}");
        // A kept statement is one more alternative: the bound grows to cover it when it is the longest.
        var keep = "SELECT " + string.Join(", ", Enumerable.Repeat("users.email", 100)) + " FROM users";
        Assert.True(SqlGrammar.ForStatement(SqlSchemaCorpus.Schemas["shop"], keep).MaxTokens >= keep.Length);
    }

    [Fact]
    public void ASchemaWithoutUsableTablesHasNoGrammar() =>
        Assert.Throws<ArgumentException>(() => SqlGrammar.ForStatement([new TableInfo("bad\u0001name", [], [], [], [], 0)]));
}
