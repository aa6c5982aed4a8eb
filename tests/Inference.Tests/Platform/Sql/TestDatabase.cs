using Inference.Server.Platform;
using Npgsql;

namespace Inference.Tests.Platform.Sql;

/// <summary>
/// A fresh PostgreSQL database for one test run, with the two tenants of <see cref="TenantSeed"/>
/// (tenant_acme and tenant_globex) and a reader role for each; dropped, roles included, at the end.
/// <para>
/// The server comes from INFERENCE_TEST_POSTGRES, an Npgsql connection string that scripts/test.sh
/// sets after starting a throwaway cluster (scripts/postgres-test.sh). Without it the tests fail,
/// never skip. By hand: <c>eval "$(scripts/postgres-test.sh start)"</c>, then dotnet test, then
/// <c>eval "$POSTGRES_TEST_STOP"</c>.
/// </para>
/// Use: <c>[Collection("postgres")]</c> on the test class and take <c>TestDatabase</c> in its
/// constructor; <see cref="ServerSettings"/> points a test server at the database, e.g.
/// <c>protected override IEnumerable&lt;string&gt; PlatformSettings => database.ServerSettings;</c>.
/// </summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public const string Variable = "INFERENCE_TEST_POSTGRES";
    public const string Acme = "tenant_acme";
    public const string Globex = "tenant_globex";

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private string _serverConnectionString = "";

    /// <summary>Connection string of this run's database (superuser: for the server under test and for setup).</summary>
    public string ConnectionString { get; private set; } = "";

    public string DatabaseName => "inference_test_" + _suffix;

    /// <summary>Command-line settings that give a test server this database.</summary>
    public IEnumerable<string> ServerSettings => [$"--Platform:Database:ConnectionString={ConnectionString}"];

    /// <summary>Platform:Database:TenantRole for this run's reader roles ("{schema}_reader_" + a run suffix), each limited to its own schema.</summary>
    public string TenantRole => "{schema}_reader_" + _suffix;

    /// <summary>For setting up and checking, as the superuser.</summary>
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>Options for the components under test: this database, the defaults otherwise.</summary>
    public PlatformDatabaseOptions Options(Action<PlatformDatabaseOptions>? configure = null)
    {
        var options = new PlatformDatabaseOptions { ConnectionString = ConnectionString };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>The first column of the first row.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public async Task InitializeAsync()
    {
        _serverConnectionString = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set: the PostgreSQL tests need a server. Run scripts/test.sh, which starts a throwaway one, "
                + "or eval \"$(scripts/postgres-test.sh start)\" before dotnet test.");

        // DatabaseName is generated here (hex), never from input: safe to write into the statement.
        await using (var server = NpgsqlDataSource.Create(_serverConnectionString))
        await using (var create = server.CreateCommand($"CREATE DATABASE {DatabaseName}"))
            await create.ExecuteNonQueryAsync();

        ConnectionString = new NpgsqlConnectionStringBuilder(_serverConnectionString) { Database = DatabaseName }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await ExecuteAsync(TenantSeed.Sql);
        foreach (var schema in (string[])[Acme, Globex])
        {
            var role = TenantRole.Replace("{schema}", schema);
            await ExecuteAsync($"""
                CREATE ROLE {role} NOLOGIN;
                GRANT USAGE ON SCHEMA {schema} TO {role};
                GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role};
                """);
        }
    }

    public async Task DisposeAsync()
    {
        if (DataSource is not null) await DataSource.DisposeAsync();
        if (_serverConnectionString.Length == 0) return;
        NpgsqlConnection.ClearAllPools();
        await using var server = NpgsqlDataSource.Create(_serverConnectionString);
        // FORCE: a test server's pool may still hold connections.
        await using (var drop = server.CreateCommand($"DROP DATABASE IF EXISTS {DatabaseName} WITH (FORCE)"))
            await drop.ExecuteNonQueryAsync();
        foreach (var schema in (string[])[Acme, Globex])
        {
            await using var dropRole = server.CreateCommand($"DROP ROLE IF EXISTS {TenantRole.Replace("{schema}", schema)}");
            await dropRole.ExecuteNonQueryAsync();
        }
    }
}

/// <summary>Test classes that use the database share one (and run one after another).</summary>
[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<TestDatabase>;
