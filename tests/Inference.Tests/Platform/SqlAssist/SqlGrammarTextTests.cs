using Inference.Engine.Grammar.Checking;
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

    /// <summary>PostgreSQL allows 1600 columns; names are the DDL writer's. A wide table joined to others outgrows llama.cpp's bounds.</summary>
    private static TableInfo Wide(string name, int columns, string columnName, params ForeignKeyInfo[] fks) =>
        new(name, [new ColumnInfo("id", "integer", false), .. Enumerable.Range(1, columns - 1).Select(i => new ColumnInfo(columnName + i, (i % 4) switch
        {
            0 => "integer",
            1 => "text",
            2 => "date",
            _ => "boolean",
        }, true))], ["id"], fks, [], 0);

    [Fact]
    public void AGrammarTooLargeWithJoinsLeavesTheJoinsOutAndKeepsItsTokenBound()
    {
        var name = "c" + new string('x', 55) + "_";
        var tables = new List<TableInfo> { Wide("wide", 1600, name) };
        for (int t = 1; t < 8; t++) tables.Add(Wide("t" + t, 10, name, new ForeignKeyInfo(["id"], "wide", ["id"])));
        var grammar = SqlGrammar.ForStatement(tables);
        var verdict = GbnfChecker.Check(grammar.Gbnf);
        Assert.True(verdict.IsUsable, verdict.Message);
        Assert.DoesNotContain(" JOIN ", grammar.Gbnf);
        Assert.Contains("\" FROM \" \"t7\"", grammar.Gbnf);
        // The token bound is the full grammar's: at least that of a grammar that kept a join (longer statements).
        var withJoin = SqlGrammar.ForStatement(tables.Take(2).ToList());
        Assert.Contains(" JOIN ", withJoin.Gbnf);
        Assert.True(grammar.MaxTokens >= withJoin.MaxTokens, $"{grammar.MaxTokens} < {withJoin.MaxTokens}");
    }

    [Fact]
    public void ATableTooWideForAnyGrammarIsRefused()
    {
        var ex = Assert.Throws<SqlRefusedException>(() => SqlGrammar.ForStatement([Wide("wide", 1600, new string('"', 60))]));
        Assert.StartsWith("the most relevant table is too wide to write SQL for", ex.Message);
    }

    [Fact]
    public void ASchemaWithoutUsableTablesHasNoGrammar() =>
        Assert.Throws<ArgumentException>(() => SqlGrammar.ForStatement([new TableInfo("bad\u0001name", [], [], [], [], 0)]));
}
