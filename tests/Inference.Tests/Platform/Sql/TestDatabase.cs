using System.Diagnostics;
using Inference.Server.Platform;
using Inference.Server.Platform.Sql;
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

    /// <summary>A validator as the server builds one: the tenant's tables from the catalog, statements on <see cref="Connections"/>.</summary>
    public PostgresSqlValidator Validator(PlatformDatabaseOptions options, ISchemaSource? catalog = null) =>
        new(Connections(options), new TenantSchemaName(), catalog ?? Catalog(options), options);

    public PostgresSqlExecutor Executor(PlatformDatabaseOptions options, ISchemaSource? catalog = null) =>
        new(Connections(options), new TenantSchemaName(), catalog ?? Catalog(options), options);

    public SchemaIntrospector Catalog(PlatformDatabaseOptions options) => new(DataSource, new TenantSchemaName(), options);

    /// <summary>Tenant connections for <paramref name="options"/>; per-tenant login pools are disposed with the database.</summary>
    public TenantConnections Connections(PlatformDatabaseOptions options)
    {
        var connections = new TenantConnections(DataSource, options);
        _connections.Add(connections);
        return connections;
    }

    private readonly List<TenantConnections> _connections = [];

    /// <summary>
    /// The recommended deployment, made by scripts/tenant-roles.sql itself (once per run): a login per
    /// tenant ("{schema}_login_" + a run suffix) and a catalog-only login for the server, their
    /// passwords in a pgpass file. EXECUTE on the dangerous built-ins is revoked from PUBLIC in this
    /// database from then on (the superuser connection of the other tests is not affected).
    /// </summary>
    public async Task<TenantLogins> TenantLoginsAsync()
    {
        await _loginsLock.WaitAsync();
        try
        {
            return _logins ??= await CreateTenantLoginsAsync();
        }
        finally
        {
            _loginsLock.Release();
        }
    }

    private readonly SemaphoreSlim _loginsLock = new(1, 1);
    private TenantLogins? _logins;
    private string LoginSuffix => "_login_" + _suffix;
    private string CatalogLogin => "inference_catalog_" + _suffix;

    private async Task<TenantLogins> CreateTenantLoginsAsync()
    {
        var server = new NpgsqlConnectionStringBuilder(ConnectionString);
        var script = Path.Combine(RepositoryRoot(), "scripts", "tenant-roles.sql");
        var start = new ProcessStartInfo(Psql(), ["-X", "-v", "ON_ERROR_STOP=1", "-v", $"tenants={Acme} {Globex}", "-v", $"role_suffix={LoginSuffix}",
            "-v", $"server_role={CatalogLogin}", "-f", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["PGHOST"] = server.Host, ["PGPORT"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PGUSER"] = server.Username, ["PGPASSWORD"] = server.Password, ["PGDATABASE"] = DatabaseName,
            },
        };
        using var psql = Process.Start(start)!;
        var output = psql.StandardOutput.ReadToEndAsync();
        var errors = psql.StandardError.ReadToEndAsync();
        await psql.WaitForExitAsync();
        if (psql.ExitCode != 0) throw new InvalidOperationException($"scripts/tenant-roles.sql failed ({psql.ExitCode}): {await errors}");
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length != 3 || !lines.All(l => l.StartsWith($"*:*:{DatabaseName}:", StringComparison.Ordinal)))
            throw new InvalidOperationException($"scripts/tenant-roles.sql printed {lines.Length} lines, not 3 pgpass lines for this database");

        _passFile = Path.Combine(Path.GetTempPath(), $"inference-test-{_suffix}.pgpass");
        await File.WriteAllLinesAsync(_passFile, lines);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(_passFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string Login(string user) => new NpgsqlConnectionStringBuilder
        {
            Host = server.Host, Port = server.Port, Database = DatabaseName, Username = user, Passfile = _passFile,
        }.ConnectionString;
        return new TenantLogins(Login(CatalogLogin), Login("{schema}" + LoginSuffix), "{schema}" + LoginSuffix);
    }

    private string? _passFile;

    private static string Psql()
    {
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "psql")).Where(File.Exists)
                .OrderBy(p => int.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(p))), out var v) ? v : 0).LastOrDefault()
            : null;
        return installed ?? "psql";
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Inference.sln"))) return dir.FullName;
        throw new InvalidOperationException("the repository root (Inference.sln) was not found above " + AppContext.BaseDirectory);
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
        foreach (var connections in _connections) await connections.DisposeAsync();
        if (_passFile is not null) File.Delete(_passFile);
        if (DataSource is not null) await DataSource.DisposeAsync();
        if (_serverConnectionString.Length == 0) return;
        NpgsqlConnection.ClearAllPools();
        await using var server = NpgsqlDataSource.Create(_serverConnectionString);
        // FORCE: a test server's pool may still hold connections.
        await using (var drop = server.CreateCommand($"DROP DATABASE IF EXISTS {DatabaseName} WITH (FORCE)"))
            await drop.ExecuteNonQueryAsync();
        foreach (var schema in (string[])[Acme, Globex])
        {
            await using var dropRole = server.CreateCommand($"DROP ROLE IF EXISTS {TenantRole.Replace("{schema}", schema)}, {schema}{LoginSuffix}");
            await dropRole.ExecuteNonQueryAsync();
        }
        await using (var dropCatalog = server.CreateCommand($"DROP ROLE IF EXISTS {CatalogLogin}"))
            await dropCatalog.ExecuteNonQueryAsync();
    }
}

/// <param name="ServerConnectionString">The server's own login: it may read the catalog, no tenant's tables.</param>
/// <param name="TenantConnectionString">Platform:Database:TenantConnectionString for the tenants' logins.</param>
/// <param name="LoginRole">The tenants' login role names, "{schema}" standing for the schema.</param>
public sealed record TenantLogins(string ServerConnectionString, string TenantConnectionString, string LoginRole)
{
    /// <summary>Command-line settings for a server in the recommended deployment.</summary>
    public IEnumerable<string> ServerSettings =>
        [$"--Platform:Database:ConnectionString={ServerConnectionString}", $"--Platform:Database:TenantConnectionString={TenantConnectionString}"];
}

/// <summary>Test classes that use the database share one (and run one after another).</summary>
[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<TestDatabase>;
