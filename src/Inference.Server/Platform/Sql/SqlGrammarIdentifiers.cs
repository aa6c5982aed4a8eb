using System.Text;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// How the SQL assistant writes a tenant's table and column names into SQL, and SQL into the JSON
/// string the model emits. Every identifier a grammar contains passes through here, so odd names
/// (mixed case, spaces, quotes, keywords) come out as valid SQL and valid JSON.
/// </summary>
public static class SqlGrammarIdentifiers
{
    // PostgreSQL 15's reserved, type/function-name and column-name keywords (pg_get_keywords() with
    // catcode R, T and C). Unreserved keywords are valid bare names; quoting them would only be noise.
    // More than the reserved words: a grammar must never offer "SELECT left FROM t" (a syntax
    // error), since its output is valid by construction or not at all. SqlIdentifier.Quote uses this too.
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast", "check",
        "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role", "current_time",
        "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except",
        "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into",
        "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or", "order",
        "placing", "primary", "references", "returning", "select", "session_user", "some", "symmetric", "table", "then",
        "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where", "window", "with",
        "authorization", "binary", "collation", "concurrently", "cross", "current_schema", "freeze", "full", "ilike",
        "inner", "is", "isnull", "join", "left", "like", "natural", "notnull", "outer", "overlaps", "right", "similar",
        "tablesample", "verbose",
        "between", "bigint", "bit", "boolean", "char", "character", "coalesce", "dec", "decimal", "exists", "extract",
        "float", "greatest", "grouping", "inout", "int", "integer", "interval", "least", "national", "nchar", "none",
        "normalize", "nullif", "numeric", "out", "overlay", "position", "precision", "real", "row", "setof", "smallint",
        "substring", "time", "timestamp", "treat", "trim", "values", "varchar", "xmlattributes", "xmlconcat",
        "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
    };

    /// <summary>
    /// Whether a name can appear in generated SQL at all: control characters cannot be typed into a
    /// prompt or a JSON answer sensibly, so such tables and columns are left out of prompts and grammars.
    /// </summary>
    public static bool IsUsable(string name) => name.Length > 0 && !name.Any(char.IsControl);

    /// <summary>The name as PostgreSQL needs it: bare when it is a plain lower-case word, else "quoted" with "" for ".</summary>
    public static string Quote(string name)
    {
        if (IsBare(name)) return name;
        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>The text as it must appear inside a JSON string (System.Text.Json's escaping; non-ASCII stays readable).</summary>
    public static string JsonEscape(string text) =>
        System.Text.Json.JsonEncodedText.Encode(text, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value;

    // Unquoted names are folded to lower case by PostgreSQL, so only [a-z_][a-z0-9_]* that is no keyword stays bare.
    private static bool IsBare(string name) =>
        name.Length > 0
        && (name[0] is >= 'a' and <= 'z' || name[0] == '_')
        && name.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_')
        && !Keywords.Contains(name);
}
