using Npgsql;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Reads a tenant's schema from pg_catalog: ordinary and partitioned tables (not partitions, views
/// or foreign tables), their columns with format_type() spellings, primary and foreign keys, indexes
/// with their columns (or expressions), and pg_class.reltuples as the row estimate. The schema name
/// is only ever a parameter. One round trip: the queries travel as one batch in one read-only
/// transaction, so they see the same catalog.
/// </summary>
public sealed class SchemaIntrospector(NpgsqlDataSource database, TenantSchemaName names, PlatformDatabaseOptions options) : ISchemaSource
{
    private const string Namespace = "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1)";

    private const string Tables = $"""
        SELECT c.relname, c.reltuples::bigint, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
        FROM pg_catalog.pg_class c
        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relnamespace = {Namespace} AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname, a.attnum
        """;

    // Key columns in key order (unnest WITH ORDINALITY); the referenced table with its schema, which
    // is not the tenant's when a key points elsewhere.
    private const string Keys = $"""
        SELECT c.relname, k.contype::text,
          ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
          rn.nspname, r.relname,
          ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)
        FROM pg_catalog.pg_constraint k
        JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
        LEFT JOIN pg_catalog.pg_class r ON r.oid = k.confrelid
        LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
        WHERE c.relnamespace = {Namespace} AND k.contype IN ('p', 'f')
        ORDER BY c.relname, k.conname
        """;

    // Key columns only (not INCLUDE ones); an expression column is shown as pg_get_indexdef spells it.
    private const string Indexes = $"""
        SELECT t.relname, i.relname, x.indisunique,
          ARRAY(SELECT coalesce(a.attname::text, pg_catalog.pg_get_indexdef(x.indexrelid, k + 1, true))
                FROM generate_series(0, x.indnkeyatts - 1) k
                LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k] AND x.indkey[k] > 0
                ORDER BY k)
        FROM pg_catalog.pg_index x
        JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
        JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
        WHERE t.relnamespace = {Namespace} AND t.relkind IN ('r', 'p')
        ORDER BY t.relname, i.relname
        """;

    /// <summary>The schema, or null when the database has none of that name. Throws <see cref="SqlRefusedException"/> for a name that is not an allowed tenant schema name.</summary>
    public async Task<TenantSchema?> GetAsync(string schema, CancellationToken ct)
    {
        names.Require(schema);
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection) { Timeout = (int)Math.Ceiling(options.StatementTimeout.TotalSeconds) + 5 };
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"));
        foreach (var sql in (string[])["SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1", Tables, Keys, Indexes])
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new NpgsqlParameter { Value = schema });
            batch.BatchCommands.Add(command);
        }
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));

        await using var reader = await batch.ExecuteReaderAsync(ct);
        // Npgsql's reader skips results without rows (BEGIN): it starts on the namespace query's.
        if (!await reader.ReadAsync(ct)) return null;

        var tables = new Dictionary<string, TableBuilder>(StringComparer.Ordinal);
        TableBuilder Table(string name) => tables.TryGetValue(name, out var t) ? t : tables[name] = new TableBuilder(name);

        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var table = Table(reader.GetString(0));
            table.EstimatedRows = reader.GetInt64(1);
            if (!reader.IsDBNull(2)) table.Columns.Add(new ColumnInfo(reader.GetString(2), reader.GetString(3), reader.GetBoolean(4)));
        }

        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (!tables.TryGetValue(reader.GetString(0), out var table)) continue;
            var columns = reader.GetFieldValue<string[]>(2);
            if (reader.GetString(1) == "p") table.PrimaryKey = columns;
            else
            {
                var referencedSchema = reader.GetString(3);
                var referenced = reader.GetString(4);
                table.ForeignKeys.Add(new ForeignKeyInfo(columns,
                    referencedSchema == schema ? referenced : referencedSchema + "." + referenced,
                    reader.GetFieldValue<string[]>(5)));
            }
        }

        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
            if (tables.TryGetValue(reader.GetString(0), out var table))
                table.Indexes.Add(new IndexInfo(reader.GetString(1), reader.GetFieldValue<string[]>(3), reader.GetBoolean(2)));

        return new TenantSchema(schema, tables.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Build()).ToList());
    }

    private sealed class TableBuilder(string name)
    {
        public string Name { get; } = name;
        public long EstimatedRows { get; set; }
        public List<ColumnInfo> Columns { get; } = [];
        public IReadOnlyList<string> PrimaryKey { get; set; } = [];
        public List<ForeignKeyInfo> ForeignKeys { get; } = [];
        public List<IndexInfo> Indexes { get; } = [];

        public TableInfo Build() => new(Name, Columns, PrimaryKey, ForeignKeys, Indexes, EstimatedRows);
    }
}
