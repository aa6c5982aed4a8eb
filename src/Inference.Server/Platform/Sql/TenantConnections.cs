using System.Collections.Concurrent;
using Npgsql;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Where a tenant's statements run. By default on the server's own connection
/// (Platform:Database:ConnectionString, with Platform:Database:TenantRole set per transaction when
/// configured); with Platform:Database:TenantConnectionString, on a login of the tenant's own, so that
/// PostgreSQL's privileges keep tenants apart whatever a statement tries. One pool per tenant login,
/// created on the tenant's first statement: there are only as many as schemas that exist, since a
/// request reaches here only after its schema was found in the catalog.
/// </summary>
public sealed class TenantConnections(NpgsqlDataSource shared, PlatformDatabaseOptions options, TenantIsolationCheck? check = null) : IAsyncDisposable
{
    public const string Placeholder = "{schema}";

    private sealed record Login(NpgsqlDataSource Source, Task Checked);

    private readonly ConcurrentDictionary<string, Lazy<Login>> _logins = new(StringComparer.Ordinal);

    /// <summary>Whether each tenant connects with its own login (TenantConnectionString).</summary>
    public bool PerTenantLogins => options.TenantConnectionString.Length > 0;

    /// <param name="schema">Already checked by <see cref="TenantSchemaName"/>.</param>
    public async Task<NpgsqlConnection> OpenAsync(string schema, CancellationToken ct)
    {
        if (!PerTenantLogins) return await shared.OpenConnectionAsync(ct);
        var login = _logins.GetOrAdd(schema, s => new Lazy<Login>(() =>
        {
            var source = NpgsqlDataSource.Create(ConnectionStringFor(options.TenantConnectionString, s));
            // Once per tenant login, before its first statement: a login that is a superuser or can read
            // another tenant's tables is worth a warning. One short catalog query; it never throws.
            return new Login(source, check?.CheckTenantLoginAsync(source, s) ?? Task.CompletedTask);
        }));
        await login.Value.Checked.WaitAsync(ct);
        return await login.Value.Source.OpenConnectionAsync(ct);
    }

    /// <summary>
    /// The template with "{schema}" replaced in each of its values. The replacement goes through
    /// NpgsqlConnectionStringBuilder, value by value, so no schema name can add or change a setting.
    /// </summary>
    public static string ConnectionStringFor(string template, string schema)
    {
        var builder = new NpgsqlConnectionStringBuilder(template);
        foreach (var key in builder.Keys.Cast<string>().ToList())
            if (builder[key] is string value && value.Contains(Placeholder, StringComparison.Ordinal))
                builder[key] = value.Replace(Placeholder, schema, StringComparison.Ordinal);
        return builder.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var login in _logins.Values)
            if (login.IsValueCreated) await login.Value.Source.DisposeAsync();
        _logins.Clear();
    }
}
