using System.Text;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// A statement inside the SQL assistant's language: one read-only SELECT over the tenant's own
/// tables, calling only allowlisted functions, operators and casts (<see cref="SqlQueryParser"/>,
/// <see cref="SqlAllowlist"/>). Nothing reaches PostgreSQL unless it parsed into one of these, for
/// EXPLAIN and execution alike, whether a client or the model wrote it.
/// </summary>
public sealed class SqlQuery
{
    internal SqlQuery(string text, string databaseText, IReadOnlyList<string> tables, IReadOnlyList<string> starTables)
    {
        Text = text;
        DatabaseText = databaseText;
        Tables = tables;
        StarTables = starTables;
    }

    /// <summary>The statement as written, without the semicolons (and comments) around it.</summary>
    public string Text { get; }

    /// <summary>
    /// What PostgreSQL is given: <see cref="Text"/> with every unqualified reference to a tenant table
    /// qualified with the tenant's schema. Statements run with search_path = pg_catalog, so a name
    /// the parser resolved to a tenant table cannot mean anything else there (a catalog table of that
    /// name, or an object someone added to the search path).
    /// </summary>
    public string DatabaseText { get; }

    /// <summary>The tenant's tables the statement reads, in order of first appearance.</summary>
    public IReadOnlyList<string> Tables { get; }

    /// <summary>The tenant's tables whose columns a * or alias.* expands to.</summary>
    public IReadOnlyList<string> StarTables { get; }

    /// <summary>The statement, or null with <paramref name="error"/> naming the construct that is outside the language.</summary>
    public static SqlQuery? TryParse(string? sql, TenantSchema schema, out string? error)
    {
        try
        {
            var query = SqlQueryParser.Parse(sql ?? "", schema);
            error = null;
            return query;
        }
        catch (SqlLanguageException ex)
        {
            error = ex.Message;
            return null;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>The statement; throws <see cref="SqlRefusedException"/> naming the construct that is outside the language.</summary>
    public static SqlQuery Parse(string sql, TenantSchema schema) =>
        TryParse(sql, schema, out var error) ?? throw new SqlRefusedException(error!);

    /// <summary><paramref name="text"/> with "schema". written before each offset in <paramref name="qualify"/> (offsets into the text, ascending).</summary>
    internal static string Qualify(string text, string schema, IEnumerable<int> qualify)
    {
        // Always quoted: the prefix then starts with '"', so it can never run into the token before it.
        var prefix = "\"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\".";
        var result = new StringBuilder(text);
        foreach (var at in qualify.OrderDescending()) result.Insert(at, prefix);
        return result.ToString();
    }
}

/// <summary>A construct outside the SQL assistant's language; the message names it.</summary>
internal sealed class SqlLanguageException(string message) : Exception(message);
