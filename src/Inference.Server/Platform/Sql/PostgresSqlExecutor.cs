using System.Globalization;
using Npgsql;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Runs a single read-only query for execute: true. The statement must be in the SQL assistant's
/// language (<see cref="SqlQuery"/>), then pass the validator's EXPLAIN and plan checks in the same
/// read-only <see cref="TenantTransaction"/> that runs it. It runs as a cursor, so that PostgreSQL
/// computes only RowLimit + 1 rows (the extra one only says the result was truncated).
/// </summary>
public sealed class PostgresSqlExecutor(TenantConnections connections, TenantSchemaName names, ISchemaSource catalog, PlatformDatabaseOptions options)
    : ISqlExecutor
{
    private const string Cursor = "inference_query";

    /// <summary>Throws <see cref="SqlRefusedException"/> for a refused statement, an invalid one, or one that fails or times out while running.</summary>
    public async Task<QueryResult> ExecuteAsync(string schema, string sql, CancellationToken ct)
    {
        var (query, problem) = await PostgresSqlValidator.ParseAsync(catalog, names, schema, sql, ct);
        if (query is null) throw new SqlRefusedException(problem!);

        await using var tx = await TenantTransaction.BeginAsync(connections, schema, options, ct);
        var validation = await PostgresSqlValidator.ExplainAsync(tx, query, ct);
        if (!validation.Valid) throw new SqlRefusedException(validation.Error!);

        try
        {
            await using var batch = tx.CreateBatch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"DECLARE {Cursor} NO SCROLL CURSOR FOR " + query.DatabaseText));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                $"FETCH FORWARD {(options.RowLimit + 1).ToString(CultureInfo.InvariantCulture)} FROM {Cursor}"));
            await using var reader = await batch.ExecuteReaderAsync(ct);
            // The reader skips DECLARE, which returns no rows: it starts on FETCH's result.
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            var rows = new List<IReadOnlyList<object?>>();
            bool truncated = false;
            while (await reader.ReadAsync(ct))
            {
                if (rows.Count == options.RowLimit) { truncated = true; break; }
                var row = new object?[reader.FieldCount];
                for (int i = 0; i < row.Length; i++) row[i] = SqlValues.Read(reader, i);
                rows.Add(row);
            }
            return new QueryResult(columns, rows, rows.Count, truncated);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.QueryCanceled && !ct.IsCancellationRequested)
        {
            throw new SqlRefusedException($"the query ran longer than the statement timeout ({options.StatementTimeout.TotalSeconds:0.###} s) and was canceled");
        }
        catch (PostgresException ex)
        {
            // Errors that only show while running (division by zero, permission denied, a bad cast of a value).
            throw new SqlRefusedException(ex.MessageText);
        }
    }
}
