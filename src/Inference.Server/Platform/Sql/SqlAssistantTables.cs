using System.Text.Json;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Which of the tenant's tables a statement uses: the relations its plan reads when EXPLAIN
/// succeeded, else the tables the parser resolved (<see cref="SqlQuery.Tables"/>), else, for a
/// statement outside the language, the names that follow FROM, JOIN, UPDATE and INTO (and commas in
/// a FROM list), read with <see cref="SqlLexer"/>.
/// </summary>
public static class SqlAssistantTables
{
    public static IReadOnlyList<string> Used(string sql, JsonElement? plan, TenantSchema schema)
    {
        var names = plan is { } p ? QueryPlan.Nodes(p).Select(n => n.Relation).OfType<string>()
            : SqlQuery.TryParse(sql, schema, out _) is { } query ? query.Tables
            : Named(sql, schema.Name);
        return names.Where(n => schema.Table(n) is not null).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Names after FROM/JOIN/UPDATE/INTO, unqualified or qualified by <paramref name="schema"/>; none when the text does not lex.</summary>
    public static IEnumerable<string> Named(string sql, string schema)
    {
        List<SqlToken> tokens;
        try { tokens = SqlLexer.Tokenize(sql); }
        catch (FormatException) { return []; }

        var names = new List<string>();
        for (int i = 0; i < tokens.Count; i++)
        {
            if (!(tokens[i].IsWord("from") || tokens[i].IsWord("join") || tokens[i].IsWord("update") || tokens[i].IsWord("into"))) continue;
            bool list = tokens[i].IsWord("from");
            int at = i + 1;
            while (at < tokens.Count && tokens[at].IsIdentifier && !IsClauseWord(tokens[at]))
            {
                string? name = tokens[at++].Value;
                if (at + 1 < tokens.Count && tokens[at].IsSymbol(".") && tokens[at + 1].IsIdentifier)
                {
                    name = name == schema ? tokens[at + 1].Value : null; // another schema's table is not the tenant's
                    at += 2;
                }
                if (name is not null) names.Add(name);
                // An alias ("orders o", "orders AS o"); a comma continues a FROM list.
                if (at < tokens.Count && tokens[at].IsWord("as")) at++;
                if (at < tokens.Count && tokens[at].IsIdentifier && !IsClauseWord(tokens[at])) at++;
                if (!list || at >= tokens.Count || !tokens[at].IsSymbol(",")) break;
                at++;
            }
        }
        return names;
    }

    // Words that may follow a table name and are not an alias.
    private static bool IsClauseWord(SqlToken token) => token.Kind == SqlTokenKind.Word && token.Value is
        "where" or "join" or "inner" or "left" or "right" or "full" or "cross" or "natural" or "on" or "using" or "group" or "order"
        or "limit" or "offset" or "having" or "window" or "union" or "intersect" or "except" or "for" or "fetch" or "set" or "values"
        or "select" or "returning" or "lateral" or "only" or "tablesample";
}
