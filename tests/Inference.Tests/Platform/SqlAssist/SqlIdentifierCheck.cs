using System.Text;
using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// Reads a generated statement back token by token: every identifier (quoted, or a bare lower-case
/// word) must be one of the schema's table or column names, and every upper-case word one of the
/// grammar's keywords. Returns what does not belong.
/// </summary>
public static class SqlIdentifierCheck
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "SELECT", "FROM", "WHERE", "AND", "OR", "JOIN", "LEFT", "ON", "GROUP", "BY", "ORDER", "ASC", "DESC", "LIMIT",
        "COUNT", "SUM", "AVG", "MIN", "MAX", "BETWEEN", "IN", "LIKE", "ILIKE", "IS", "NOT", "NULL", "TRUE", "FALSE",
    };

    public static List<string> Foreign(string sql, IEnumerable<TableInfo> tables)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { "true", "false" };
        foreach (var t in tables)
        {
            names.Add(t.Name);
            foreach (var c in t.Columns) names.Add(c.Name);
        }
        var foreign = new List<string>();
        int i = 0;
        while (i < sql.Length)
        {
            char ch = sql[i];
            if (ch == '\'')
            {
                i = SkipQuoted(sql, i, '\'', null);
            }
            else if (ch == '"')
            {
                var name = new StringBuilder();
                i = SkipQuoted(sql, i, '"', name);
                if (!names.Contains(name.ToString())) foreign.Add(name.ToString());
            }
            else if (char.IsLetter(ch) || ch == '_')
            {
                int start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$')) i++;
                var word = sql[start..i];
                bool keyword = word.Any(char.IsUpper) && word.ToUpperInvariant() == word;
                if (keyword ? !Keywords.Contains(word) : !names.Contains(word)) foreign.Add(word);
            }
            else i++;
        }
        return foreign;
    }

    /// <summary>Skips a '…' or "…" token (doubled delimiters escape themselves), collecting its content.</summary>
    private static int SkipQuoted(string sql, int i, char delimiter, StringBuilder? content)
    {
        i++;
        while (i < sql.Length)
        {
            if (sql[i] == delimiter)
            {
                if (i + 1 < sql.Length && sql[i + 1] == delimiter)
                {
                    content?.Append(delimiter);
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            char c = sql[i++];
            content?.Append(c);
        }
        return i;
    }
}
