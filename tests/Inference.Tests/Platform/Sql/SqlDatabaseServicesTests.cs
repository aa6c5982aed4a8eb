using Inference.Server.Platform;
using Inference.Server.Platform.Sql;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Tests.Platform.Sql;

/// <summary>AddSqlDatabase in the real server: what it registers, with and without a database.</summary>
[Collection("postgres")]
public sealed class SqlDatabaseServicesTests(TestDatabase database) : IAsyncLifetime
{
    private sealed class Server(TestDatabase database) : PlatformServer
    {
        protected override IEnumerable<string> PlatformSettings =>
            [.. database.ServerSettings, "--Platform:Database:SchemaCacheTtl=00:00:30", "--Platform:Database:RowLimit=7"];
    }

    private readonly Server _server = new(database);

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task The_server_registers_the_database_components_with_its_settings()
    {
        Assert.IsType<CachedSchemaSource>(_server.Get<ISchemaSource>());
        var schema = await _server.Get<ISchemaSource>().GetAsync(TestDatabase.Acme, default);
        Assert.Equal(4, schema!.Tables.Count);
        Assert.True((await _server.Get<ISqlValidator>().ValidateAsync(TestDatabase.Acme, "SELECT 1", default)).Valid);
        var result = await _server.Get<ISqlExecutor>().ExecuteAsync(TestDatabase.Acme, "SELECT id FROM users", default);
        Assert.Equal(7, result.RowCount);
        Assert.True(result.Truncated);
        Assert.False(_server.Get<TenantSchemaName>().IsAllowed("pg_catalog"));
    }

}

public sealed class SqlDatabaseServicesWithoutDatabaseTests
{
    [Fact]
    public async Task Without_a_database_only_the_schema_name_check_is_registered()
    {
        var server = new PlatformServer();
        await server.InitializeAsync();
        try
        {
            Assert.NotNull(server.Services.GetService(typeof(TenantSchemaName)));
            Assert.Null(server.Services.GetService(typeof(ISchemaSource)));
            Assert.Null(server.Services.GetService(typeof(ISqlValidator)));
            Assert.Null(server.Services.GetService(typeof(ISqlExecutor)));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public void Settings_that_cannot_work_are_reported()
    {
        var options = new PlatformDatabaseOptions { RowLimit = 0, SchemaPattern = "([", TenantRole = "reader", StatementTimeout = TimeSpan.Zero };
        var problems = options.Problems().ToList();
        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("RowLimit"));
        Assert.Contains(problems, p => p.Contains("SchemaPattern"));
        Assert.Contains(problems, p => p.Contains("{schema}"));
        Assert.Contains(problems, p => p.Contains("StatementTimeout"));
    }

    [Theory]
    [InlineData("Host=db;Username=reader;Password=x", "must contain {schema} in Username (one login per tenant)")]
    [InlineData("Host=db;Database={schema};Username=reader", "must contain {schema} in Username (one login per tenant)")]
    [InlineData("Host=db;Username={schema}_reader;Bogus=1", "is not a valid Npgsql connection string: ")]
    [InlineData("Username={schema}_reader", "must name a Host")]
    public void A_tenant_connection_string_that_cannot_work_is_reported(string template, string problem)
    {
        var options = new PlatformDatabaseOptions { ConnectionString = "Host=db", TenantConnectionString = template };
        Assert.StartsWith("Platform:Database:TenantConnectionString " + problem, Assert.Single(options.Problems()));
        Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddSqlDatabase(options));
    }

    [Fact]
    public void A_tenant_connection_string_needs_the_servers_own_and_no_tenant_role()
    {
        const string template = "Host=db;Username={schema}_reader;Passfile=/run/tenants.pgpass";
        Assert.Empty(new PlatformDatabaseOptions { ConnectionString = "Host=db", TenantConnectionString = template }.Problems());
        Assert.Contains("needs Platform:Database:ConnectionString too",
            Assert.Single(new PlatformDatabaseOptions { TenantConnectionString = template }.Problems()));
        Assert.Contains("Platform:Database:TenantRole exclude each other", Assert.Single(
            new PlatformDatabaseOptions { ConnectionString = "Host=db", TenantConnectionString = template, TenantRole = "{schema}_r" }.Problems()));
    }

    [Fact]
    public void A_schema_name_replaces_the_placeholder_inside_values_only()
    {
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(TenantConnections.ConnectionStringFor(
            "Host=db;Username={schema}_reader;Passfile=/run/{schema}.pgpass", "t;Password=evil;Host=elsewhere"));
        Assert.Equal("db", connection.Host);
        Assert.Equal("t;Password=evil;Host=elsewhere_reader", connection.Username);
        Assert.Equal("/run/t;Password=evil;Host=elsewhere.pgpass", connection.Passfile);
        Assert.Null(connection.Password);
    }
}
