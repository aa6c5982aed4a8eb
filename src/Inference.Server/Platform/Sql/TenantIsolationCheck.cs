using Npgsql;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Warns, once after start-up, when the database roles do not keep tenants apart by themselves: when the
/// server's connection is a superuser, or when its role (or a role it may SET ROLE to) can read the
/// tables of more than one tenant schema; and, with per-tenant logins, once per tenant on its first
/// statement, when that login is a superuser or can read another tenant's tables. The SQL checks keep
/// tenants apart either way; this says when PostgreSQL itself would not (README, "Database setup for
/// tenant isolation").
/// </summary>
public sealed class TenantIsolationCheck(NpgsqlDataSource database, TenantSchemaName names,
    ILogger<TenantIsolationCheck> logger) : IHostedService
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // Schemas (other than the catalog) holding a table, view or foreign table that the current role,
    // or any role it is a member of (and so may SET ROLE to), may SELECT from.
    private const string Query = """
        SELECT r.rolsuper, current_user::text,
          ARRAY(SELECT n.nspname::text FROM pg_catalog.pg_namespace n
                WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
                  AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles m
                              WHERE pg_catalog.pg_has_role(current_user, m.oid, 'MEMBER')
                                AND pg_catalog.has_schema_privilege(m.oid, n.oid, 'USAGE')
                                AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                            WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                                              AND pg_catalog.has_table_privilege(m.oid, c.oid, 'SELECT')))
                ORDER BY 1)
        FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
        """;

    /// <summary>
    /// The start-up check of the server's own login. It runs beside start-up, so that a slow or
    /// unreachable database does not hold the server back for the check's timeout; it never throws.
    /// </summary>
    public Task Completed { get; private set; } = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Completed = Task.Run(CheckServerLoginAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Waits for a check still running (bounded by the shutdown token), so it never uses a disposed data source.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Completed.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Shutdown's time is up: the check's own timeout ends it soon after.
        }
    }

    private async Task CheckServerLoginAsync()
    {
        var role = await ReadAsync(database, "Platform:Database:ConnectionString");
        if (role is null) return;
        if (role.Superuser)
            logger.LogWarning(
                "Platform:Database: the server connects to PostgreSQL as {Role}, a superuser: PostgreSQL does not keep tenants apart, only the SQL checks do. "
                + "Connect as a role without superuser and give each tenant its own login (README: Database setup for tenant isolation)", role.Name);
        else if (role.TenantSchemas.Count > 1)
            logger.LogWarning(
                "Platform:Database: PostgreSQL role {Role} can read the tables of {Count} tenant schemas ({Schemas}): PostgreSQL does not keep tenants apart, "
                + "only the SQL checks do. Give each tenant its own login with Platform:Database:TenantConnectionString (README: Database setup for tenant isolation)",
                role.Name, role.TenantSchemas.Count, Shorten(role.TenantSchemas));
    }

    /// <summary>Checks the login a tenant's statements use (TenantConnectionString); never throws.</summary>
    public async Task CheckTenantLoginAsync(NpgsqlDataSource login, string schema)
    {
        var role = await ReadAsync(login, $"Platform:Database:TenantConnectionString for schema {schema}");
        if (role is null) return;
        var others = role.TenantSchemas.Where(s => s != schema).ToList();
        if (role.Superuser)
            logger.LogWarning("Platform:Database:TenantConnectionString: the login for schema {Schema} ({Role}) is a superuser: it can read every tenant's data",
                schema, role.Name);
        else if (others.Count > 0)
            logger.LogWarning("Platform:Database:TenantConnectionString: the login for schema {Schema} ({Role}) can read the tables of other tenants ({Schemas})",
                schema, role.Name, Shorten(others));
    }

    private sealed record Role(string Name, bool Superuser, IReadOnlyList<string> TenantSchemas);

    private async Task<Role?> ReadAsync(NpgsqlDataSource source, string what)
    {
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await using var command = source.CreateCommand(Query);
            command.CommandTimeout = (int)Timeout.TotalSeconds + 5;
            await using var reader = await command.ExecuteReaderAsync(timeout.Token);
            if (!await reader.ReadAsync(timeout.Token)) return null;
            var schemas = reader.GetFieldValue<string[]>(2).Where(names.IsAllowed).ToList();
            return new Role(reader.GetString(1), reader.GetBoolean(0), schemas);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning("Could not check which tenants {What} can read: {Error}", what, ex.Message);
            return null;
        }
    }

    private static string Shorten(IReadOnlyList<string> schemas) =>
        schemas.Count <= 5 ? string.Join(", ", schemas) : string.Join(", ", schemas.Take(5)) + $", and {schemas.Count - 5} more";
}
