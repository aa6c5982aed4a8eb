using Inference.Server.Platform.Sql;
using Npgsql;

// In the namespace of its caller (PlatformApi), as DI extension methods usually are.
namespace Inference.Server.Platform;

public static class SqlDatabaseServices
{
    /// <summary>
    /// The SQL assistant's database side. Always: <see cref="TenantSchemaName"/> (the schema-name check,
    /// needed with DDL from the request too). With a database configured (the NpgsqlDataSource that
    /// AddPlatform registers): <see cref="ISchemaSource"/> (the catalog, cached), <see cref="ISqlValidator"/>
    /// and <see cref="ISqlExecutor"/>; without one these are absent, and GetService returns null.
    /// Settings that cannot work fail at start-up.
    /// </summary>
    public static IServiceCollection AddSqlDatabase(this IServiceCollection services, PlatformDatabaseOptions options)
    {
        var problems = options.Problems().ToList();
        if (problems.Count > 0) throw new InvalidOperationException(string.Join("; ", problems));

        services.AddSingleton(new TenantSchemaName(options.SchemaPattern));
        if (!options.IsConfigured) return services;

        services.AddSingleton(sp => new SchemaIntrospector(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<TenantSchemaName>(), options));
        services.AddSingleton<ISchemaSource>(sp => new CachedSchemaSource(
            sp.GetRequiredService<SchemaIntrospector>(), options.SchemaCacheTtl, sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddSingleton(sp => new TenantIsolationCheck(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<TenantSchemaName>(),
            sp.GetRequiredService<ILogger<TenantIsolationCheck>>()));
        services.AddHostedService(sp => sp.GetRequiredService<TenantIsolationCheck>());
        services.AddSingleton(sp => new TenantConnections(sp.GetRequiredService<NpgsqlDataSource>(), options, sp.GetRequiredService<TenantIsolationCheck>()));
        services.AddSingleton<ISqlValidator>(sp => new PostgresSqlValidator(sp.GetRequiredService<TenantConnections>(), sp.GetRequiredService<TenantSchemaName>(),
            sp.GetRequiredService<ISchemaSource>(), options));
        services.AddSingleton<ISqlExecutor>(sp => new PostgresSqlExecutor(sp.GetRequiredService<TenantConnections>(), sp.GetRequiredService<TenantSchemaName>(),
            sp.GetRequiredService<ISchemaSource>(), options));
        return services;
    }
}
