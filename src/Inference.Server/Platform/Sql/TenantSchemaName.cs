using System.Text;
using System.Text.RegularExpressions;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Which schema names a request may name. Names never reach SQL text (they travel as parameters and
/// through quote_ident), so this is not what stops injection; it stops a request from pointing the
/// assistant at the catalog (pg_catalog, information_schema, pg_toast) or at anything that is not a
/// tenant's schema, and gives a clear refusal for hostile values.
/// </summary>
public sealed class TenantSchemaName
{
    /// <summary>A plain lower-case identifier of at most 63 characters, other than "public".</summary>
    public const string DefaultPattern = "^(?!public$)[a-z_][a-z0-9_]{0,62}$";

    private readonly Regex _pattern;

    public TenantSchemaName(string pattern = DefaultPattern)
    {
        if (PatternProblem(pattern) is { } problem) throw new ArgumentException("schema pattern " + problem, nameof(pattern));
        _pattern = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Why <paramref name="schema"/> may not be used, or null when it may.</summary>
    public string? Problem(string? schema)
    {
        if (string.IsNullOrEmpty(schema)) return "a schema name is required";
        var shown = Show(schema);
        // PostgreSQL truncates identifiers at 63 bytes: a longer name would silently mean another schema.
        if (Encoding.UTF8.GetByteCount(schema) > 63) return $"schema name {shown} is longer than 63 bytes";
        if (schema.StartsWith("pg_", StringComparison.OrdinalIgnoreCase) || schema.Equals("information_schema", StringComparison.OrdinalIgnoreCase))
            return $"schema {shown} is a system schema, not a tenant's";
        // The whole name must match: Regex's '$' also matches before a final newline.
        var match = _pattern.Match(schema);
        if (!match.Success || match.Index != 0 || match.Length != schema.Length)
            return $"schema name {shown} is not a tenant schema name (allowed: {_pattern})";
        return null;
    }

    public bool IsAllowed(string? schema) => Problem(schema) is null;

    /// <summary>The name when it may be used; otherwise throws <see cref="SqlRefusedException"/> with the reason.</summary>
    public string Require(string? schema) => Problem(schema) is { } problem ? throw new SqlRefusedException(problem) : schema!;

    /// <summary>Why <paramref name="pattern"/> is not a usable pattern, or null.</summary>
    public static string? PatternProblem(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern)) return "must not be empty";
        try
        {
            _ = new Regex(pattern);
            return null;
        }
        catch (ArgumentException ex)
        {
            return "is not a valid regular expression: " + ex.Message;
        }
    }

    // Quoted and cut short, with control characters escaped, so a hostile value cannot forge log lines or messages.
    private static string Show(string schema)
    {
        var text = schema.Length > 80 ? schema[..80] + "…" : schema;
        var sb = new StringBuilder("\"");
        foreach (char c in text) sb.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.Append('"').ToString();
    }
}
