namespace Inference.Server.Platform;

/// <summary>The tenants' PostgreSQL database (section "Platform:Database"); the SQL assistant works without one from DDL in the request.</summary>
public sealed class PlatformDatabaseOptions
{
    /// <summary>Npgsql connection string; empty = no database configured.</summary>
    public string ConnectionString { get; set; } = "";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString);

    /// <summary>Limit on each statement run for a request (EXPLAIN, and the query of execute: true).</summary>
    public TimeSpan StatementTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most rows execute: true returns; more are reported as truncated.</summary>
    public int RowLimit { get; set; } = 100;

    /// <summary>How long a schema read from the catalog is reused.</summary>
    public TimeSpan SchemaCacheTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Estimated rows from which a sequential scan or an unbounded sort is worth a suggestion.</summary>
    public long LargeTableRows { get; set; } = 1000;

    /// <summary>Columns from which SELECT * on a table is worth a suggestion.</summary>
    public int WideTableColumns { get; set; } = 10;

    /// <summary>
    /// Schema names requests may use (the whole name must match). System schemas (pg_*,
    /// information_schema) are refused whatever the pattern; the default also refuses "public".
    /// </summary>
    public string SchemaPattern { get; set; } = Sql.TenantSchemaName.DefaultPattern;

    /// <summary>
    /// Role to SET for a tenant's statements, "{schema}" standing for the schema name (e.g.
    /// "{schema}_reader"); empty = the connection's own role. The connection's role must be a member
    /// of each, so it can read every tenant: prefer <see cref="TenantConnectionString"/>, where no
    /// connection can reach another tenant's tables.
    /// </summary>
    public string TenantRole { get; set; } = "";

    /// <summary>
    /// Npgsql connection string of each tenant's own login, "{schema}" standing for the schema name in
    /// any of its values (it must be in Username), e.g.
    /// "Host=db;Database=app;Username={schema}_reader;Passfile=/run/secrets/tenants.pgpass". Empty = a
    /// tenant's statements use <see cref="ConnectionString"/>. The catalog is still read through
    /// ConnectionString, whose role then needs no privileges on the tenants' tables.
    /// </summary>
    public string TenantConnectionString { get; set; } = "";

    /// <summary>Settings that cannot work, as messages (empty when all is well).</summary>
    public IEnumerable<string> Problems()
    {
        if (StatementTimeout < TimeSpan.FromMilliseconds(1) || StatementTimeout > TimeSpan.FromHours(1))
            yield return $"Platform:Database:StatementTimeout must be between 1 ms and 1 hour (is {StatementTimeout})";
        if (RowLimit is < 1 or > 100_000) yield return $"Platform:Database:RowLimit must be between 1 and 100000 (is {RowLimit})";
        if (SchemaCacheTtl < TimeSpan.Zero) yield return $"Platform:Database:SchemaCacheTtl must not be negative (is {SchemaCacheTtl})";
        if (LargeTableRows < 0) yield return $"Platform:Database:LargeTableRows must not be negative (is {LargeTableRows})";
        if (WideTableColumns < 1) yield return $"Platform:Database:WideTableColumns must be at least 1 (is {WideTableColumns})";
        if (Sql.TenantSchemaName.PatternProblem(SchemaPattern) is { } pattern) yield return "Platform:Database:SchemaPattern " + pattern;
        if (TenantRole.Length > 0 && !TenantRole.Contains("{schema}", StringComparison.Ordinal))
            yield return "Platform:Database:TenantRole must contain {schema} (one role per tenant)";
        if (TenantConnectionString.Length > 0 && TenantConnectionStringProblem() is { } tenant)
            yield return "Platform:Database:TenantConnectionString " + tenant;
    }

    private string? TenantConnectionStringProblem()
    {
        if (!IsConfigured) return "needs Platform:Database:ConnectionString too (the server's own connection, which reads the catalog)";
        if (TenantRole.Length > 0) return "and Platform:Database:TenantRole exclude each other: a tenant's own login needs no role switch";
        Npgsql.NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new Npgsql.NpgsqlConnectionStringBuilder(Sql.TenantConnections.ConnectionStringFor(TenantConnectionString, "tenant_example"));
        }
        catch (ArgumentException ex)
        {
            return "is not a valid Npgsql connection string: " + ex.Message;
        }
        var template = new Npgsql.NpgsqlConnectionStringBuilder(TenantConnectionString);
        if (template.Username?.Contains(Sql.TenantConnections.Placeholder, StringComparison.Ordinal) != true)
            return "must contain {schema} in Username (one login per tenant)";
        return string.IsNullOrEmpty(builder.Host) ? "must name a Host" : null;
    }
}
