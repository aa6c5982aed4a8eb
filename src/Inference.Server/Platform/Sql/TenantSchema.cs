using System.Text.Json;

namespace Inference.Server.Platform.Sql;

/// <summary>A tenant's PostgreSQL schema as the SQL assistant sees it: read from the catalog, or parsed from DDL in the request.</summary>
public sealed record TenantSchema(string Name, IReadOnlyList<TableInfo> Tables)
{
    public TableInfo? Table(string name) => Tables.FirstOrDefault(t => t.Name == name);
}

/// <param name="EstimatedRows">pg_class.reltuples (approximate; -1 when never analyzed; 0 for DDL).</param>
public sealed record TableInfo(
    string Name,
    IReadOnlyList<ColumnInfo> Columns,
    IReadOnlyList<string> PrimaryKey,
    IReadOnlyList<ForeignKeyInfo> ForeignKeys,
    IReadOnlyList<IndexInfo> Indexes,
    long EstimatedRows);

/// <param name="DataType">format_type() spelling, e.g. "integer", "text", "numeric(10,2)", "timestamp with time zone".</param>
public sealed record ColumnInfo(string Name, string DataType, bool Nullable);

public sealed record ForeignKeyInfo(IReadOnlyList<string> Columns, string ReferencedTable, IReadOnlyList<string> ReferencedColumns);

public sealed record IndexInfo(string Name, IReadOnlyList<string> Columns, bool Unique);

/// <summary>Where schemas come from (the database's catalog, cached with a short TTL).</summary>
public interface ISchemaSource
{
    /// <summary>The schema's tables, or null when the database has no such schema.</summary>
    Task<TenantSchema?> GetAsync(string schema, CancellationToken ct);
}

/// <summary>The outcome of EXPLAIN (FORMAT JSON) on a statement; never executes it.</summary>
public sealed record SqlValidation(bool Valid, string? Error, JsonElement? Plan);

public interface ISqlValidator
{
    /// <summary>
    /// The language check (<see cref="SqlQuery"/>, against the tenant's tables in the catalog), then
    /// EXPLAIN (FORMAT JSON) in a read-only transaction with a statement timeout; a statement outside
    /// the language is invalid and never sent.
    /// </summary>
    Task<SqlValidation> ValidateAsync(string schema, string sql, CancellationToken ct);
}

/// <summary>Rows of an executed read-only query (execute: true).</summary>
public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<object?>> Rows, int RowCount, bool Truncated);

public interface ISqlExecutor
{
    /// <summary>Runs a single validated SELECT in a read-only transaction with a row limit and timeout; refuses anything else.</summary>
    Task<QueryResult> ExecuteAsync(string schema, string sql, CancellationToken ct);
}

/// <summary>A statement the executor refuses (not one read-only SELECT), or a failure it reports to the client.</summary>
public sealed class SqlRefusedException(string message) : Exception(message);
