using System.Text.Json;
using Npgsql;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Validates SQL with EXPLAIN (FORMAT JSON, VERBOSE), never running it, inside a
/// <see cref="TenantTransaction"/> (read only, statement timeout, search_path = the tenant's schema).
/// <para>
/// Tenants are kept apart in layers: (1) the lexical checks refuse several statements, anything
/// EXPLAIN cannot take, functions that run SQL text or reach outside the database, and names
/// qualified with another existing schema (tenant_globex.users, pg_catalog.pg_class); (2) the plan
/// names the schema of every relation the statement reads, whatever the spelling (quoted names,
/// views, unqualified catalog tables such as pg_class, which PostgreSQL finds through pg_catalog's
/// implicit place in search_path), and any relation outside the tenant's schema makes the
/// statement invalid; (3) with Platform:Database:TenantRole, PostgreSQL's own privileges do the
/// same for what the plan cannot show (relations read inside functions).
/// </para>
/// </summary>
public sealed class PostgresSqlValidator(NpgsqlDataSource database, TenantSchemaName names, PlatformDatabaseOptions options) : ISqlValidator
{
    // Functions that run SQL given as text (escaping every check above), read server files, hold locks
    // or change settings mid-statement. Privileges stop most of them anyway; refusing them by name
    // gives a clear answer whatever role the server connects as.
    private static readonly string[] DeniedFunctionPrefixes =
    [
        "query_to_xml", "cursor_to_xml", "table_to_xml", "schema_to_xml", "database_to_xml", "ts_stat", "dblink",
        "set_config", "pg_read_", "pg_ls_", "pg_stat_file", "lo_", "pg_advisory", "pg_try_advisory", "pg_terminate_backend",
        "pg_cancel_backend", "pg_reload_conf", "pg_notify",
    ];

    /// <summary>Throws <see cref="SqlRefusedException"/> when <paramref name="schema"/> is not an allowed tenant schema name.</summary>
    public async Task<SqlValidation> ValidateAsync(string schema, string sql, CancellationToken ct)
    {
        names.Require(schema);
        if (Check(sql, out var statement) is { } problem) return Invalid(problem);
        await using var tx = await TenantTransaction.BeginAsync(database, schema, options, ct);
        return await ExplainAsync(tx, statement!, ct);
    }

    /// <summary>The lexical checks: why the statement cannot be validated, or null (with the parsed statement).</summary>
    internal static string? Check(string sql, out SqlStatement? statement)
    {
        statement = SqlStatement.TryParse(sql, out var error);
        if (statement is null) return error;
        if (!statement.IsExplainable)
            return $"only SELECT, INSERT, UPDATE, DELETE and MERGE statements can be validated (this one starts with {Describe(statement)})";
        if (statement.CalledNames().FirstOrDefault(IsDenied) is { } function)
            return $"function {function}() is not allowed";
        if (statement.Qualifiers().FirstOrDefault(IsSystemQualifier) is { } system)
            return $"schema \"{system}\" may not be used; only the tenant's schema";
        return null;
    }

    /// <summary>EXPLAIN in <paramref name="tx"/>, then the plan's relations checked against the tenant's schema. The transaction stays usable when the result is valid.</summary>
    internal static async Task<SqlValidation> ExplainAsync(TenantTransaction tx, SqlStatement statement, CancellationToken ct)
    {
        if (!tx.SchemaExists) return Invalid($"schema \"{tx.Schema}\" does not exist");

        await using var batch = tx.CreateBatch();
        var qualifiers = statement.Qualifiers().Distinct().ToArray();
        if (qualifiers.Length > 0)
        {
            // Aliases and table names qualify columns too (o.user_id): only names of other existing schemas count.
            var other = new NpgsqlBatchCommand("SELECT min(nspname) FROM pg_catalog.pg_namespace WHERE nspname = ANY($1) AND nspname <> $2");
            other.Parameters.Add(new NpgsqlParameter { Value = qualifiers });
            other.Parameters.Add(new NpgsqlParameter { Value = tx.Schema });
            batch.BatchCommands.Add(other);
        }
        // A batch command is sent as one protocol message, never split on ';' by Npgsql: PostgreSQL
        // itself refuses a second statement, whatever the lexical check above made of it.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("EXPLAIN (FORMAT JSON, VERBOSE) " + statement.Text));

        string? otherSchema = null;
        JsonElement plan;
        try
        {
            await using var reader = await batch.ExecuteReaderAsync(ct);
            if (qualifiers.Length > 0)
            {
                await reader.ReadAsync(ct);
                otherSchema = reader.IsDBNull(0) ? null : reader.GetString(0);
                await reader.NextResultAsync(ct);
            }
            await reader.ReadAsync(ct);
            using var json = JsonDocument.Parse(reader.GetString(0));
            plan = json.RootElement.Clone();
        }
        catch (PostgresException ex)
        {
            return Invalid(otherSchema is not null ? OtherSchema(otherSchema, tx.Schema) : ex.MessageText);
        }
        if (otherSchema is not null) return Invalid(OtherSchema(otherSchema, tx.Schema));

        var outside = QueryPlan.Nodes(plan).FirstOrDefault(n => n.Relation is not null && n.Schema != tx.Schema);
        if (outside is not null)
            return Invalid($"relation {outside.Schema}.{outside.Relation} is outside schema \"{tx.Schema}\"");
        return new SqlValidation(true, null, plan);
    }

    private static SqlValidation Invalid(string error) => new(false, error, null);

    private static string OtherSchema(string other, string schema) =>
        $"schema \"{other}\" is not this tenant's schema; only \"{schema}\" may be used";

    private static bool IsDenied(string function) =>
        DeniedFunctionPrefixes.Any(prefix => function.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

    private static bool IsSystemQualifier(string qualifier) =>
        qualifier.StartsWith("pg_", StringComparison.OrdinalIgnoreCase) || qualifier.Equals("information_schema", StringComparison.OrdinalIgnoreCase);

    private static string Describe(SqlStatement statement) =>
        statement.FirstKeyword.Length > 0 ? statement.FirstKeyword.ToUpperInvariant() : "\"" + statement.Tokens[0].Value + "\"";
}
