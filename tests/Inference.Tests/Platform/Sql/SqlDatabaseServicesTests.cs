using Inference.Server.Platform;
using Inference.Server.Platform.Sql;

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
}
