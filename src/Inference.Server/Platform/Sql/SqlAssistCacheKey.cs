using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// What a cached /ai/sql/assist answer depends on, for <see cref="PlatformResponseCache"/>. Every
/// assist answer is deterministic: the first round decodes greedily (temperature 0) and the repair
/// round samples with a fixed seed (see SqlAssistantEngineModel), so the same request on the same
/// schema and model gets the same answer. Requests with execute are never cached: their rows change
/// with the data, which changes without the catalog changing.
/// </summary>
public static class SqlAssistCacheKey
{
    public const string Route = "sql";

    /// <summary>The Redis key, or null when the request must not be cached (execute).</summary>
    public static string? For(PlatformUser user, string modelDigest, SqlAssistInput input, TenantSchema schema, bool validated) =>
        input.Execute ? null
        : PlatformResponseCache.Key(Route, user, modelDigest,
            [schema.Name, SchemaFingerprint(schema), validated ? "validated" : "unvalidated",
             input.Action.ToString(), input.Query, input.Error ?? ""]);

    /// <summary>
    /// SHA-256 over everything of the schema the assistant reads (tables, columns, keys, indexes and
    /// the row estimates the prompt shows), so that a migration, or an ANALYZE that changes the
    /// estimates, makes every earlier answer for the schema a miss.
    /// </summary>
    public static string SchemaFingerprint(TenantSchema schema)
    {
        var text = new StringBuilder();
        void Part(string value) => text.Append(value.Length).Append(':').Append(value);
        void List(IReadOnlyList<string> values)
        {
            Part(values.Count.ToString(CultureInfo.InvariantCulture));
            foreach (var v in values) Part(v);
        }
        Part(schema.Name);
        foreach (var table in schema.Tables.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            Part("table");
            Part(table.Name);
            Part(table.EstimatedRows.ToString(CultureInfo.InvariantCulture));
            // Column order matters to the prompt, so it is kept.
            foreach (var c in table.Columns)
            {
                Part("column");
                Part(c.Name);
                Part(c.DataType);
                Part(c.Nullable ? "null" : "not null");
            }
            Part("pk");
            List(table.PrimaryKey);
            foreach (var fk in table.ForeignKeys)
            {
                Part("fk");
                List(fk.Columns);
                Part(fk.ReferencedTable);
                List(fk.ReferencedColumns);
            }
            foreach (var index in table.Indexes)
            {
                Part("index");
                Part(index.Name);
                List(index.Columns);
                Part(index.Unique ? "unique" : "");
            }
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
