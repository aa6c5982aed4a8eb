namespace Inference.Server.Platform;

/// <summary>The tenants' PostgreSQL database (section "Platform:Database"); the SQL assistant works without one from DDL in the request.</summary>
public sealed class PlatformDatabaseOptions
{
    /// <summary>Npgsql connection string; empty = no database configured.</summary>
    public string ConnectionString { get; set; } = "";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString);
}
