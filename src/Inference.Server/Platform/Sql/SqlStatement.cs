namespace Inference.Server.Platform.Sql;

/// <summary>
/// One SQL statement as a client or the model wrote it, checked lexically before it goes near the
/// database: exactly one statement, and what kind. PostgreSQL still parses it; these checks give
/// clear refusals and keep obviously wrong input off the connection.
/// </summary>
public sealed class SqlStatement
{
    // Keywords a plain query may start with; "(" is a parenthesized SELECT.
    private static readonly HashSet<string> QueryStarts = ["select", "with", "values", "table", "("];
    private static readonly HashSet<string> DataChangeStarts = ["insert", "update", "delete", "merge"];
    // Words that make a query write (INSERT/UPDATE/DELETE/MERGE in a WITH, SELECT ... INTO, FOR UPDATE).
    private static readonly HashSet<string> WritingWords = ["insert", "update", "delete", "merge", "into", "truncate"];

    private SqlStatement(string text, List<SqlToken> tokens)
    {
        Text = text;
        Tokens = tokens;
        FirstKeyword = tokens[0].Kind is SqlTokenKind.Word or SqlTokenKind.Symbol ? tokens[0].Value : "";
    }

    /// <summary>The statement without its trailing semicolon(s).</summary>
    public string Text { get; }

    public IReadOnlyList<SqlToken> Tokens { get; }

    /// <summary>The first keyword, lower case ("select", "with", "(", "delete", ...); empty when the statement starts otherwise.</summary>
    public string FirstKeyword { get; }

    /// <summary>A SELECT / WITH / VALUES / TABLE that neither writes nor locks (no data-modifying WITH, no SELECT INTO, no FOR UPDATE).</summary>
    public bool IsReadOnlyQuery =>
        QueryStarts.Contains(FirstKeyword) && !Tokens.Any(t => t.Kind == SqlTokenKind.Word && WritingWords.Contains(t.Value));

    /// <summary>A statement EXPLAIN accepts: a query or INSERT / UPDATE / DELETE / MERGE (never DDL or utility statements).</summary>
    public bool IsExplainable => QueryStarts.Contains(FirstKeyword) || DataChangeStarts.Contains(FirstKeyword);

    /// <summary>Names written before a '.' (schema or table qualifiers, and aliases: which is which needs the catalog).</summary>
    public IEnumerable<string> Qualifiers()
    {
        for (int i = 0; i + 2 < Tokens.Count; i++)
            if (Tokens[i].IsIdentifier && Tokens[i + 1].IsSymbol(".") && (Tokens[i + 2].IsIdentifier || Tokens[i + 2].IsSymbol("*")))
                yield return Tokens[i].Value;
    }

    /// <summary>Names written before a '(' (function calls, and some keywords such as IN or VALUES).</summary>
    public IEnumerable<string> CalledNames()
    {
        for (int i = 0; i + 1 < Tokens.Count; i++)
            if (Tokens[i].IsIdentifier && Tokens[i + 1].IsSymbol("("))
                yield return Tokens[i].Value;
    }

    /// <summary>The statement, or null with <paramref name="error"/> saying why it is not exactly one statement.</summary>
    public static SqlStatement? TryParse(string? sql, out string? error)
    {
        List<SqlToken> tokens;
        try
        {
            tokens = SqlLexer.Tokenize(sql ?? "");
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
        int statements = 0;
        bool inStatement = false;
        foreach (var token in tokens)
        {
            if (token.Kind == SqlTokenKind.Semicolon) inStatement = false;
            else if (!inStatement) { inStatement = true; statements++; }
        }
        if (statements == 0)
        {
            error = "the statement is empty";
            return null;
        }
        if (statements > 1)
        {
            error = $"only a single statement is allowed; found {statements}";
            return null;
        }
        // Leading and trailing semicolons are harmless; the statement is what lies between them.
        var body = tokens.Where(t => t.Kind != SqlTokenKind.Semicolon).ToList();
        error = null;
        return new SqlStatement(sql![body[0].Start..body[^1].End], body);
    }
}
