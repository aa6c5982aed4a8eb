using System.Globalization;
using Npgsql;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// A read-only transaction set up for one tenant's statements, on the tenant's connection
/// (<see cref="TenantConnections"/>): search_path = pg_catalog, pg_temp, so that every function,
/// operator and type name means the built-in one (statements name the tenant's tables qualified, see
/// <see cref="SqlQuery.DatabaseText"/>); standard_conforming_strings on, the lexing
/// <see cref="SqlLexer"/> assumes; a statement timeout; and (when configured) the tenant's role.
/// Every setting goes through set_config with parameters, so the schema name is never part of SQL
/// text. Disposing rolls back: nothing a request runs is ever committed.
/// </summary>
internal sealed class TenantTransaction : IAsyncDisposable
{
    private TenantTransaction(NpgsqlConnection connection, string schema, bool schemaExists, int commandTimeoutSeconds)
    {
        Connection = connection;
        Schema = schema;
        SchemaExists = schemaExists;
        CommandTimeoutSeconds = commandTimeoutSeconds;
    }

    public NpgsqlConnection Connection { get; }
    public string Schema { get; }
    public bool SchemaExists { get; }

    /// <summary>The client-side limit on a command: the server's statement timeout plus a margin, for when the server does not answer at all.</summary>
    public int CommandTimeoutSeconds { get; }

    /// <param name="schema">Already checked by <see cref="TenantSchemaName"/>.</param>
    public static async Task<TenantTransaction> BeginAsync(TenantConnections connections, string schema, PlatformDatabaseOptions options, CancellationToken ct)
    {
        var connection = await connections.OpenAsync(schema, ct);
        try
        {
            int timeoutSeconds = (int)Math.Ceiling(options.StatementTimeout.TotalSeconds) + 5;
            await using var batch = new NpgsqlBatch(connection) { Timeout = timeoutSeconds };
            batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN TRANSACTION READ ONLY"));
            var settings = new NpgsqlBatchCommand(
                "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true), pg_catalog.set_config('statement_timeout', $2, true), "
                + "pg_catalog.set_config('standard_conforming_strings', 'on', true), "
                + (options.TenantRole.Length > 0 ? "pg_catalog.set_config('role', $3, true), " : "")
                + "EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)");
            settings.Parameters.Add(new NpgsqlParameter { Value = schema });
            settings.Parameters.Add(new NpgsqlParameter { Value = ((long)options.StatementTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) });
            if (options.TenantRole.Length > 0)
                settings.Parameters.Add(new NpgsqlParameter { Value = options.TenantRole.Replace("{schema}", schema, StringComparison.Ordinal) });
            batch.BatchCommands.Add(settings);

            bool exists;
            await using (var reader = await batch.ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                exists = reader.GetBoolean(reader.FieldCount - 1);
            }
            return new TenantTransaction(connection, schema, exists, timeoutSeconds);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidParameterValue && options.TenantRole.Length > 0)
        {
            // set_config('role') names a role that does not exist: this tenant has no role to run as.
            await connection.DisposeAsync();
            throw new SqlRefusedException($"schema \"{schema}\" has no database role to run as: {ex.MessageText}");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public NpgsqlBatch CreateBatch() => new(Connection) { Timeout = CommandTimeoutSeconds };

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Not cancellable: the transaction must end before the connection goes back to the pool.
            await using var rollback = new NpgsqlCommand("ROLLBACK", Connection) { CommandTimeout = CommandTimeoutSeconds };
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // A broken connection: the server ends its transaction itself, and the pool drops it.
        }
        await Connection.DisposeAsync();
    }
}
