namespace Inference.Server.Platform.Sql;

/// <summary>
/// What a grammar may do with a column, by its type. Only types whose literals, operators and
/// aggregates are known to work get comparisons; anything else (json, arrays, enums, domains,
/// intervals, ...) is only selected, counted and tested with IS [NOT] NULL, which works for every type.
/// </summary>
public enum SqlGrammarColumnKind
{
    Other,
    Number,
    Text,
    Boolean,
    /// <summary>date and timestamp [with|without time zone]: compared with 'YYYY-MM-DD' literals.</summary>
    Date,
    /// <summary>Sortable and groupable, but only ever compared with NULL (no literal syntax to get wrong).</summary>
    Uuid,
}

public static class SqlGrammarColumnKinds
{
    /// <summary>
    /// Classifies a format_type() spelling ("numeric(10,2)", "timestamp with time zone") or a DDL
    /// spelling ("INT4", "varchar(20)", "serial"). Unknown spellings are <see cref="SqlGrammarColumnKind.Other"/>.
    /// </summary>
    public static SqlGrammarColumnKind Classify(string dataType)
    {
        var t = dataType.Trim().ToLowerInvariant();
        // Arrays ("integer[]", "int ARRAY") and quoted type names ("char", user types) are never compared.
        if (t.Length == 0 || t.EndsWith(']') || t.Contains(" array", StringComparison.Ordinal) || t.StartsWith('"')) return SqlGrammarColumnKind.Other;
        int paren = t.IndexOf('(');
        var name = paren >= 0 ? (t[..paren].TrimEnd() + " " + t[(t.IndexOf(')') + 1)..].Trim()).Trim() : t;
        if (name.StartsWith("pg_catalog.", StringComparison.Ordinal)) name = name["pg_catalog.".Length..];
        return name switch
        {
            "smallint" or "integer" or "bigint" or "int" or "int2" or "int4" or "int8" or "smallserial" or "serial" or "bigserial"
                or "serial2" or "serial4" or "serial8" or "numeric" or "decimal" or "real" or "float4" or "float8" or "float"
                or "double precision" => SqlGrammarColumnKind.Number,
            "text" or "character varying" or "varchar" or "character" or "char" or "bpchar" or "name" => SqlGrammarColumnKind.Text,
            "boolean" or "bool" => SqlGrammarColumnKind.Boolean,
            "date" or "timestamp" or "timestamptz" or "timestamp without time zone" or "timestamp with time zone" => SqlGrammarColumnKind.Date,
            "uuid" => SqlGrammarColumnKind.Uuid,
            _ => SqlGrammarColumnKind.Other,
        };
    }

    /// <summary>ORDER BY and GROUP BY need btree operators, which every kind but Other has.</summary>
    public static bool IsSortable(this SqlGrammarColumnKind kind) => kind != SqlGrammarColumnKind.Other;

    /// <summary>MIN and MAX exist for numbers, text and dates, not for boolean or uuid.</summary>
    public static bool HasMinMax(this SqlGrammarColumnKind kind) =>
        kind is SqlGrammarColumnKind.Number or SqlGrammarColumnKind.Text or SqlGrammarColumnKind.Date;
}
