using System.Text.Json;
using Npgsql;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Validates SQL with EXPLAIN (FORMAT JSON, VERBOSE), never running it, inside a
/// <see cref="TenantTransaction"/> (read only, statement timeout, search_path = pg_catalog).
/// <para>
/// Tenants are kept apart in layers: (1) the statement must be in the SQL assistant's language
/// (<see cref="SqlQuery"/>): one read-only SELECT over the tenant's own tables (from the catalog, not
/// from the request), with allowlisted functions, operators and casts only; anything else is invalid
/// and never reaches PostgreSQL, not even EXPLAIN, since planning alone can evaluate functions;
/// (2) the plan names the schema of every relation the statement reads, and any relation outside the
/// tenant's schema makes the statement invalid; (3) with per-tenant logins
/// (Platform:Database:TenantConnectionString) or Platform:Database:TenantRole, PostgreSQL's own
/// privileges stop what the plan cannot show.
/// </para>
/// </summary>
public sealed class PostgresSqlValidator(TenantConnections connections, TenantSchemaName names, ISchemaSource catalog, PlatformDatabaseOptions options)
    : ISqlValidator
{
    /// <summary>Throws <see cref="SqlRefusedException"/> when <paramref name="schema"/> is not an allowed tenant schema name.</summary>
    public async Task<SqlValidation> ValidateAsync(string schema, string sql, CancellationToken ct)
    {
        var (query, problem) = await ParseAsync(catalog, names, schema, sql, ct);
        if (query is null) return Invalid(problem!);
        await using var tx = await TenantTransaction.BeginAsync(connections, schema, options, ct);
        return await ExplainAsync(tx, query, ct);
    }

    /// <summary>The statement in the tenant's language, or why it is not: resolved against the tenant's tables as the catalog has them.</summary>
    internal static async Task<(SqlQuery? Query, string? Problem)> ParseAsync(ISchemaSource catalog, TenantSchemaName names, string schema, string sql, CancellationToken ct)
    {
        names.Require(schema);
        if (await catalog.GetAsync(schema, ct) is not { } tenant) return (null, $"schema \"{schema}\" does not exist");
        var query = SqlQuery.TryParse(sql, tenant, out var problem);
        return (query, problem);
    }

    /// <summary>EXPLAIN in <paramref name="tx"/>, then the plan's relations checked against the tenant's schema. The transaction stays usable when the result is valid.</summary>
    internal static async Task<SqlValidation> ExplainAsync(TenantTransaction tx, SqlQuery query, CancellationToken ct)
    {
        if (!tx.SchemaExists) return Invalid($"schema \"{tx.Schema}\" does not exist");

        // A batch command is sent as one protocol message, never split on ';' by Npgsql: PostgreSQL
        // itself would refuse a second statement, had the parser let one through.
        await using var batch = tx.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("EXPLAIN (FORMAT JSON, VERBOSE) " + query.DatabaseText));
        JsonElement plan;
        try
        {
            await using var reader = await batch.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            using var json = JsonDocument.Parse(reader.GetString(0));
            plan = json.RootElement.Clone();
        }
        catch (PostgresException ex)
        {
            return Invalid(ex.MessageText);
        }

        // The second layer: whatever the parser made of the text, the plan shows where PostgreSQL reads.
        var outside = QueryPlan.Nodes(plan).FirstOrDefault(n => n.Relation is not null && n.Schema != tx.Schema);
        if (outside is not null)
            return Invalid($"relation {outside.Schema}.{outside.Relation} is outside schema {SqlIdentifier.Show(tx.Schema)}");
        return new SqlValidation(true, null, plan);
    }

    private static SqlValidation Invalid(string error) => new(false, error, null);
}
