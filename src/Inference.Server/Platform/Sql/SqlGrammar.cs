using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Checking;
using E = Inference.Server.Platform.Sql.SqlGrammarExpr;
using K = Inference.Server.Platform.Sql.SqlGrammarColumnKind;

namespace Inference.Server.Platform.Sql;

/// <summary>A GBNF grammar for the assistant's answer and the token count within which any answer it allows is complete.</summary>
public sealed record SqlAnswerGrammar(string Gbnf, int MaxTokens);

/// <summary>
/// Grammars for the SQL assistant's answers. The answer is <c>{"sql": "...", "explanation": "..."}</c>
/// and the sql value is a read-only SELECT over the given tables that PostgreSQL accepts by
/// construction: only those tables and their columns, joins only along foreign keys, columns only
/// from the tables in FROM, type-correct comparisons, GROUP BY exactly the selected plain column,
/// and every repetition and literal bounded. Every identifier goes through
/// <see cref="SqlGrammarIdentifiers"/> and every literal through GbnfRules.Literal, so no table or
/// column name can make llama.cpp reject the grammar (which would abort the process).
/// </summary>
public static class SqlGrammar
{
    public const int StatementExplanationChars = 160;
    public const int ExplainChars = 400;

    // At most this many columns in a plain select list and conditions in a WHERE clause.
    private const int MaxSelected = 4;
    private const int MaxConditions = 3;
    private const int MaxTextLiteral = 20;

    /// <summary>
    /// The answer grammar for a statement over <paramref name="tables"/>. <paramref name="keep"/>, when
    /// given, is one more whole statement the model may answer with (optimize: "the statement is fine as it is").
    /// </summary>
    /// <remarks>
    /// Very wide tables with long names (a tenant's DDL is the client's to write) can make the grammar larger than
    /// llama.cpp may be given (<see cref="GbnfLimits"/>). Then the joins are left out, then every table but the most
    /// relevant one; if even that is too large the request is refused (<see cref="SqlRefusedException"/>, a 400).
    /// The token bound stays the full grammar's, so it never falls below the bound reserved for the prompt.
    /// </remarks>
    public static SqlAnswerGrammar ForStatement(IReadOnlyList<TableInfo> tables, string? keep = null)
    {
        var sources = SqlGrammarSource.For(tables);
        if (sources.Count == 0) throw new ArgumentException("no table with a usable name to build a grammar from", nameof(tables));
        var full = Build(sources, keep);
        var verdict = GbnfChecker.Check(full.Gbnf);
        if (!verdict.IsLimit) return full;
        foreach (var fewer in new[] { sources.Where(s => s.Join is null).ToList(), sources.Take(1).ToList() })
        {
            var smaller = Build(fewer, keep);
            if (!GbnfChecker.Check(smaller.Gbnf).IsLimit) return smaller with { MaxTokens = full.MaxTokens };
        }
        throw new SqlRefusedException($"the most relevant table is too wide to write SQL for: its columns and their names make a grammar larger than llama.cpp may be given ({verdict.Message})");
    }

    private static SqlAnswerGrammar Build(IReadOnlyList<SqlGrammarSource> sources, string? keep)
    {
        var rules = new GbnfRules();
        var shared = new Shared(rules);
        var queries = E.Choice(sources.Select((s, i) => Query(rules, shared, s, i))).Named(rules, "query");
        var limit = E.Sequence(" LIMIT ", E.Choice(E.Sequence(E.AsciiClass("[1-9]"), Digit.Repeat(0, 2)), "1000"));
        var statement = E.Sequence("SELECT ", queries, limit.Optional()).Named(rules, "statement");
        var sql = keep is null ? statement : E.Choice(statement, E.Sql(keep));
        var root = E.Sequence("{\"sql\": \"", sql, "\", \"explanation\": \"", Prose(StatementExplanationChars), "\"}");
        return new SqlAnswerGrammar(rules.Render(root.Text), root.MaxBytes);
    }

    /// <summary>The answer grammar for explain: <c>{"explanation": "..."}</c> only.</summary>
    public static SqlAnswerGrammar ForExplanation()
    {
        var rules = new GbnfRules();
        var root = E.Sequence("{\"explanation\": \"", Prose(ExplainChars), "\"}");
        return new SqlAnswerGrammar(rules.Render(root.Text), root.MaxBytes);
    }

    private static readonly E Digit = E.AsciiClass("[0-9]");

    /// <summary>Printable ASCII except " and \, so the prose needs no JSON escapes and every character is one byte.</summary>
    private static E Prose(int maxChars) => E.AsciiClass("[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]").Repeat(1, maxChars);

    /// <summary>Every statement one source allows, after "SELECT ".</summary>
    private static E Query(GbnfRules rules, Shared shared, SqlGrammarSource source, int i)
    {
        E? Columns(string hint, Func<SqlGrammarColumn, bool> which)
        {
            var columns = source.Columns.Where(which).Select(c => E.Sql(c.Reference)).ToList();
            if (columns.Count == 0) return null;
            return E.Choice(columns).Named(rules, $"{hint}-{i}");
        }
        var any = Columns("column", _ => true);
        var numbers = Columns("number", c => c.Kind == K.Number);
        var texts = Columns("text", c => c.Kind == K.Text);
        var booleans = Columns("boolean", c => c.Kind == K.Boolean);
        var dates = Columns("date", c => c.Kind == K.Date);
        var sortable = Columns("sortable", c => c.Kind.IsSortable());
        var minMax = Columns("minmax", c => c.Kind.HasMinMax());

        var from = source.Join is null
            ? E.Sql(SqlGrammarIdentifiers.Quote(source.Tables[0]))
            : E.Sequence(E.Sql(SqlGrammarIdentifiers.Quote(source.Tables[0])), E.Choice(" JOIN ", " LEFT JOIN "), E.Sql(source.Join));
        from = E.Sequence(" FROM ", from).Named(rules, $"from-{i}");

        E? where = null;
        var conditions = new List<E>();
        if (numbers is { } n) conditions.Add(E.Sequence(n, shared.NumberTest));
        if (texts is { } t) conditions.Add(E.Sequence(t, shared.TextTest));
        if (booleans is { } b) conditions.Add(E.Sequence(b, shared.BooleanTest));
        if (dates is { } d) conditions.Add(E.Sequence(d, shared.DateTest));
        if (any is { } a) conditions.Add(E.Sequence(a, shared.NullTest));
        if (conditions.Count > 0)
        {
            var condition = E.Choice(conditions).Named(rules, $"condition-{i}");
            where = E.Sequence(" WHERE ", condition, E.Sequence(E.Choice(" AND ", " OR "), condition).Repeat(0, MaxConditions - 1)).Named(rules, $"where-{i}");
        }
        var filtered = where is { } w ? E.Sequence(from, w.Optional()) : from;

        var aggregates = new List<E> { "COUNT(*)" };
        if (any is { } all) aggregates.Add(E.Sequence("COUNT(", all, ")"));
        if (numbers is { } num) aggregates.Add(E.Sequence(E.Choice("SUM(", "AVG("), num, ")"));
        if (minMax is { } mm) aggregates.Add(E.Sequence(E.Choice("MIN(", "MAX("), mm, ")"));
        var aggregate = E.Choice(aggregates);
        var summary = E.Sequence(aggregate, E.Sequence(", ", aggregate).Repeat(0, 1)).Named(rules, $"summary-{i}");

        var selection = any is { } col ? E.Choice("*", E.Sequence(col, E.Sequence(", ", col).Repeat(0, MaxSelected - 1))) : "*";
        var plain = E.Sequence(selection, filtered);
        if (sortable is { } s) plain = E.Sequence(plain, E.Sequence(" ORDER BY ", s, shared.Direction).Optional());

        var shapes = new List<E> { plain, E.Sequence(summary, filtered) };
        // GROUP BY must name exactly the selected plain column, so each groupable column gets its own shape.
        foreach (var group in source.Columns.Where(c => c.Kind.IsSortable()))
        {
            var g = E.Sql(group.Reference);
            var order = E.Sequence(" ORDER BY ", E.Choice(g, "2"), shared.Direction).Optional();
            shapes.Add(E.Sequence(g, ", ", summary, filtered, " GROUP BY ", g, order));
        }
        return E.Choice(shapes).Named(rules, $"query-{i}");
    }

    /// <summary>Literals and tests that do not depend on a source: one rule each, shared by all sources.</summary>
    private sealed class Shared
    {
        public Shared(GbnfRules rules)
        {
            var compare = E.Choice(" = ", " <> ", " < ", " <= ", " > ", " >= ");
            var number = E.Sequence(E.Literal("-").Optional(), Digit.Repeat(1, 6), E.Sequence(".", Digit.Repeat(1, 2)).Optional()).Named(rules, "number");
            var word = E.AsciiClass("[a-zA-Z0-9 _.@-]");
            var text = E.Sequence("'", word.Repeat(0, MaxTextLiteral), "'").Named(rules, "text");
            var pattern = E.Sequence("'", E.Literal("%").Optional(), word.Repeat(1, MaxTextLiteral), E.Literal("%").Optional(), "'").Named(rules, "pattern");
            // Days 01-28 are valid in every month, so no literal can be an impossible date.
            var date = E.Sequence("'", E.AsciiClass("[12]"), Digit.Repeat(3, 3), "-",
                E.Choice(E.Sequence("0", E.AsciiClass("[1-9]")), E.Sequence("1", E.AsciiClass("[0-2]"))), "-",
                E.Choice(E.Sequence("0", E.AsciiClass("[1-9]")), E.Sequence("1", Digit), E.Sequence("2", E.AsciiClass("[0-8]"))), "'").Named(rules, "date");

            NumberTest = E.Choice(
                E.Sequence(compare, number),
                E.Sequence(" BETWEEN ", number, " AND ", number),
                E.Sequence(" IN (", number, E.Sequence(", ", number).Repeat(0, 2), ")")).Named(rules, "number-test");
            TextTest = E.Choice(E.Sequence(E.Choice(" = ", " <> "), text), E.Sequence(E.Choice(" LIKE ", " ILIKE "), pattern)).Named(rules, "text-test");
            BooleanTest = E.Choice(" = true", " = false", " IS TRUE", " IS FALSE").Named(rules, "boolean-test");
            DateTest = E.Choice(E.Sequence(compare, date), E.Sequence(" BETWEEN ", date, " AND ", date)).Named(rules, "date-test");
            NullTest = E.Choice(" IS NULL", " IS NOT NULL").Named(rules, "null-test");
            Direction = E.Choice(" ASC", " DESC").Optional();
        }

        public E NumberTest { get; }
        public E TextTest { get; }
        public E BooleanTest { get; }
        public E DateTest { get; }
        public E NullTest { get; }
        public E Direction { get; }
    }
}
