using System.Text.Json.Nodes;
using Inference.Server.Platform.Sql;
using Inference.Tests.Operations;
using Inference.Tests.Platform.Sql;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>A server on the test database for the isolation tests, with its logs captured.</summary>
public abstract class IsolationServer(TestDatabase database) : PlatformServer, IAsyncLifetime
{
    public CapturedLogs Logs { get; } = new();
    public TestDatabase Database => database;

    /// <summary>How this server reaches the tenants' data (README: "Database setup for tenant isolation").</summary>
    protected abstract IEnumerable<string> DatabaseSettings { get; }

    protected override IEnumerable<string> PlatformSettings =>
        [.. DatabaseSettings, "--Platform:Database:RowLimit=5", "--Platform:RateLimits:SqlAssistPerHour=0"];

    protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);

    /// <summary>Work before the server starts (roles to create).</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    public new async Task InitializeAsync()
    {
        await PrepareAsync();
        await base.InitializeAsync();
    }

    /// <summary>The database warnings, once the start-up check has finished.</summary>
    public async Task<List<string>> DatabaseWarningsAsync()
    {
        await Get<TenantIsolationCheck>().Completed;
        return DatabaseWarnings.ToList();
    }

    public IEnumerable<string> DatabaseWarnings =>
        Logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("Platform:Database", StringComparison.Ordinal)).Select(e => e.Message);
}

/// <summary>The default: one connection (a superuser here) for everything.</summary>
public sealed class DefaultIsolationServer(TestDatabase database) : IsolationServer(database)
{
    protected override IEnumerable<string> DatabaseSettings => Database.ServerSettings;
}

/// <summary>Platform:Database:TenantRole: the connection SETs a per-tenant role (it is a member of every tenant's role).</summary>
public sealed class TenantRoleIsolationServer(TestDatabase database) : IsolationServer(database)
{
    protected override IEnumerable<string> DatabaseSettings => [.. Database.ServerSettings, $"--Platform:Database:TenantRole={Database.TenantRole}"];
}

/// <summary>The recommended deployment: a catalog-only login for the server, a login per tenant (made by scripts/tenant-roles.sql).</summary>
public sealed class TenantLoginIsolationServer(TestDatabase database) : IsolationServer(database)
{
    private TenantLogins? _logins;
    protected override IEnumerable<string> DatabaseSettings => _logins!.ServerSettings;
    protected override async Task PrepareAsync() => _logins = await Database.TenantLoginsAsync();
}

/// <summary>
/// Issue 10, section 1, end to end: every reproduction sent to POST /ai/sql/assist with alice's token
/// (tenant_acme), through real HTTP, the real models and the real PostgreSQL, as explain without and
/// with execute. Each must be refused with the construct named, before PostgreSQL sees it, and the
/// test then checks that its side effect did not happen and that nothing of another tenant, of the
/// server's files or of its roles is anywhere in the response. Run under each database setup.
/// </summary>
public abstract class SqlAssistIsolationTests(IsolationServer server)
{
    private const string Acme = TestDatabase.Acme;

    // What must never appear in a response: another tenant's rows, password hashes, server files,
    // settings, authentication rules.
    private static readonly string[] Leaks = ["@globex.test", "Globex User", "scram-sha-256", "root:x:0:0", "max_connections", "pg_wal", "listen_addresses"];

    private TestDatabase Database => server.Database;

    private async Task<(int Status, JsonObject Body, string Text)> PostAsync(object body)
    {
        var (status, json) = await SqlAssistServer.PostAsync(server, body);
        var text = json.ToJsonString();
        foreach (var leak in Leaks) Assert.DoesNotContain(leak, text, StringComparison.OrdinalIgnoreCase);
        return (status, json, text);
    }

    /// <summary>The statement through explain and explain + execute: both refuse it with the same reason, which is returned.</summary>
    private async Task<string> RefusedAsync(string sql)
    {
        var (status, body, _) = await PostAsync(new { query = sql, schema = Acme, action = "explain", model = "stories" });
        Assert.Equal(200, status);
        Assert.False(body["valid"]!.GetValue<bool>());
        Assert.Null(body["result"]);
        var error = body["validation_error"]!.GetValue<string>();

        (status, body, _) = await PostAsync(new { query = sql, schema = Acme, action = "explain", model = "stories", execute = true });
        Assert.Equal(400, status);
        Assert.Equal("the statement was not executed because it is not valid: " + error, body["error"]!.GetValue<string>());
        return error;
    }

    [Fact]
    public async Task The_tenants_own_rows_are_served()
    {
        var (status, body, _) = await PostAsync(new { query = "SELECT email FROM users ORDER BY id", schema = Acme, action = "explain", model = "tiny", execute = true });
        Assert.Equal(200, status);
        Assert.True(body["valid"]!.GetValue<bool>());
        Assert.Equal("user1@acme.test", body["result"]!["rows"]![0]![0]!.GetValue<string>());
        Assert.Equal(5, body["result"]!["row_count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, string_agg(quote_literal(email), '' | '')::tsquery FROM tenant_globex.users')::text")]
    [InlineData("SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, string_agg(quote_literal(rolpassword), '' | '')::tsquery FROM pg_catalog.pg_authid')::text")]
    public async Task Ts_rewrite_running_sql_text_is_refused_and_reads_nothing(string sql)
    {
        Assert.Equal("function ts_rewrite is not allowed", await RefusedAsync(sql));
    }

    [Fact]
    public async Task Unicode_escaped_pg_read_file_is_refused()
    {
        Assert.Equal("function pg_read_file is not allowed", await RefusedAsync("SELECT U&\"pg_\\0072ead_file\"('/etc/passwd',0,120)"));
    }

    [Fact]
    public async Task Unicode_escaped_pg_ls_dir_is_refused()
    {
        Assert.Equal("function pg_ls_dir is not allowed", await RefusedAsync("SELECT U&\"pg_\\006cs_dir\"('.')"));
    }

    [Fact]
    public async Task Unicode_escaped_query_to_xml_is_refused()
    {
        Assert.Equal("function query_to_xml is not allowed",
            await RefusedAsync("SELECT U&\"query_\\0074o_xml\"('select email from tenant_globex.users',true,false,'')"));
    }

    [Fact]
    public async Task Unicode_escaped_pg_terminate_backend_is_refused_and_the_other_session_lives()
    {
        await using var victim = await Database.DataSource.OpenConnectionAsync();
        await using (var pidCommand = new NpgsqlCommand("SELECT pg_backend_pid()", victim))
        {
            var pid = (int)(await pidCommand.ExecuteScalarAsync())!;
            Assert.Equal("function pg_terminate_backend is not allowed", await RefusedAsync($"SELECT U&\"pg_\\0074erminate_backend\"({pid})"));
            Assert.Equal(1L, await Database.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"));
        }
        await using var alive = new NpgsqlCommand("SELECT 41 + 1", victim);
        Assert.Equal(42, (int)(await alive.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Unicode_escaped_set_config_role_is_refused_and_reads_nothing()
    {
        var globexRole = Database.TenantRole.Replace("{schema}", TestDatabase.Globex);
        Assert.Equal("function set_config is not allowed", await RefusedAsync(
            $"SELECT U&\"set_\\0063onfig\"('role','{globexRole}',true), (SELECT string_agg(email, ',') FROM users)"));
        // Still acme's rows afterwards, in a fresh transaction on the same pool.
        var (_, body, _) = await PostAsync(new { query = "SELECT email FROM users ORDER BY id", schema = Acme, action = "explain", model = "tiny", execute = true });
        Assert.Equal("user1@acme.test", body["result"]!["rows"]![0]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A_replication_slot_is_never_created()
    {
        var slot = "attack_" + Guid.NewGuid().ToString("N")[..12];
        Assert.Equal("function pg_create_physical_replication_slot is not allowed",
            await RefusedAsync($"SELECT pg_create_physical_replication_slot('{slot}', true)"));
        Assert.Equal(0L, await Database.ScalarAsync<long>($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'"));
    }

    [Fact]
    public async Task Statistics_are_never_reset()
    {
        // Some statistics to reset, then the time of the last reset before and after.
        await Database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.users");
        const string lastReset = "SELECT coalesce(stats_reset::text, 'never') FROM pg_stat_database WHERE datname = current_database()";
        var before = await Database.ScalarAsync<string>(lastReset);
        Assert.Equal("function pg_stat_reset is not allowed", await RefusedAsync("SELECT pg_stat_reset()"));
        Assert.Equal(before, await Database.ScalarAsync<string>(lastReset));
    }

    [Fact]
    public async Task The_wal_file_is_never_switched()
    {
        // The segment a tiny record of the test's own lands in: after a switch it is the next one.
        const string walFile = "SELECT pg_walfile_name(pg_logical_emit_message(false, 'wal-probe', 'x'))";
        var before = await Database.ScalarAsync<string>(walFile);
        Assert.Equal("function pg_switch_wal is not allowed", await RefusedAsync("SELECT pg_switch_wal()"));
        Assert.Equal(before, await Database.ScalarAsync<string>(walFile));
    }

    [Fact]
    public async Task No_message_is_written_to_the_wal()
    {
        // 50 MB of message, had it run: the WAL position would move by at least that much.
        const string position = "SELECT pg_current_wal_lsn()::text";
        var before = await Database.ScalarAsync<string>(position);
        Assert.Equal("function pg_logical_emit_message is not allowed",
            await RefusedAsync("SELECT pg_logical_emit_message(false, 'attack', repeat('x', 50000000))"));
        var moved = await Database.ScalarAsync<decimal>($"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{before}')");
        Assert.True(moved < 16 * 1024 * 1024, $"the WAL moved by {moved} bytes");
    }

    [Fact]
    public async Task No_transaction_id_is_assigned()
    {
        // The next transaction id to be assigned, read without assigning one.
        const string nextXid = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text";
        var before = await Database.ScalarAsync<string>(nextXid);
        Assert.Equal("function txid_current is not allowed", await RefusedAsync("SELECT txid_current()"));
        Assert.Equal(before, await Database.ScalarAsync<string>(nextXid));
    }

    [Fact]
    public async Task Other_sessions_activity_is_not_shown()
    {
        // Another session's query text, which pg_stat_get_activity would show.
        var marker = "activity-" + Guid.NewGuid().ToString("N");
        await using var other = await Database.DataSource.OpenConnectionAsync();
        await using (var command = new NpgsqlCommand($"SELECT '{marker}'", other)) await command.ExecuteScalarAsync();

        Assert.Equal("function pg_stat_get_activity is not allowed", await RefusedAsync("SELECT pg_stat_get_activity(NULL)"));
        Assert.Equal("functions in FROM are not allowed (pg_stat_get_activity)", await RefusedAsync("SELECT * FROM pg_stat_get_activity(NULL)"));
        var (_, _, text) = await PostAsync(new { query = "SELECT * FROM pg_stat_get_activity(NULL)", schema = Acme, action = "explain", model = "tiny" });
        Assert.DoesNotContain(marker, text);
    }

    [Fact]
    public async Task Settings_are_not_shown()
    {
        Assert.Equal("function pg_show_all_settings is not allowed", await RefusedAsync("SELECT pg_show_all_settings()"));
    }

    [Fact]
    public async Task Authentication_rules_are_not_shown()
    {
        Assert.Equal("function pg_hba_file_rules is not allowed", await RefusedAsync("SELECT pg_hba_file_rules()"));
    }

    [Fact]
    public async Task Another_tenants_table_and_the_catalog_are_refused_by_name()
    {
        Assert.Equal("relation tenant_globex.users is outside schema tenant_acme", await RefusedAsync("SELECT email FROM tenant_globex.users"));
        Assert.Equal("relation tenant_globex.users is outside schema tenant_acme", await RefusedAsync("SELECT email FROM U&\"tenant_\\0067lobex\".users"));
        Assert.Equal("relation pg_catalog.pg_authid is outside schema tenant_acme", await RefusedAsync("SELECT rolpassword FROM pg_catalog.pg_authid"));
        Assert.Equal("relation pg_authid is not a table of schema tenant_acme", await RefusedAsync("SELECT rolpassword FROM pg_authid"));
    }

    [Theory]
    [InlineData("explain")]
    [InlineData("optimize")]
    [InlineData("fix")]
    public async Task A_data_changing_statement_is_answered_clearly_and_changes_nothing(string action)
    {
        const string delete = "DELETE FROM orders WHERE id > 0";
        const string refusal = "DELETE is not a read-only query: only SELECT statements reach the database";
        const string count = "SELECT count(*) FROM tenant_acme.orders";
        var before = await Database.ScalarAsync<long>(count);
        Assert.True(before > 0);
        var schema = (await server.Get<ISchemaSource>().GetAsync(Acme, default))!;

        var (status, body, _) = await PostAsync(new { query = delete, schema = Acme, action, model = "stories" });
        Assert.Equal(200, status);
        Assert.False(string.IsNullOrWhiteSpace(body["explanation"]!.GetValue<string>()), "the answer has an explanation");
        var sql = body["sql"]!.GetValue<string>();
        if (action == "explain")
        {
            // Explained as written, reported as outside the language, without a plan.
            Assert.Equal(delete, sql);
            Assert.False(body["valid"]!.GetValue<bool>());
            Assert.Equal(refusal, body["validation_error"]!.GetValue<string>());
            Assert.Equal(["orders"], body["tables_used"]!.AsArray().Select(n => n!.GetValue<string>()));
        }
        else
        {
            // Answered with a read-only statement in the language; its validity is that statement's own.
            Assert.StartsWith("SELECT ", sql);
            Assert.NotNull(SqlQuery.TryParse(sql, schema, out _));
            if (!body["valid"]!.GetValue<bool>()) Assert.NotEqual(refusal, body["validation_error"]!.GetValue<string>());
        }

        (status, body, _) = await PostAsync(new { query = delete, schema = Acme, action, model = "stories", execute = true });
        if (action == "explain")
        {
            Assert.Equal(400, status);
            Assert.Equal("the statement was not executed because it is not valid: " + refusal, body["error"]!.GetValue<string>());
        }
        else if (status == 200)
        {
            Assert.StartsWith("SELECT ", body["sql"]!.GetValue<string>());
            Assert.True(body["valid"]!.GetValue<bool>());
            Assert.NotNull(body["result"]);
        }
        else
        {
            // The model's SELECT was not valid for PostgreSQL: nothing ran.
            Assert.Equal(400, status);
            var error = body["error"]!.GetValue<string>();
            Assert.StartsWith("the statement was not executed because it is not valid: ", error);
            Assert.DoesNotContain(refusal, error);
        }
        Assert.Equal(before, await Database.ScalarAsync<long>(count));
    }

    [Theory]
    [InlineData("optimize")]
    [InlineData("fix")]
    public async Task What_the_model_writes_instead_is_checked_too_and_reads_only_the_tenant(string action)
    {
        // The given statement is refused, so the model writes one under the grammar; that one is
        // checked the same way before it runs, and can only read acme's tables.
        var attack = "SELECT U&\"query_\\0074o_xml\"('select email from tenant_globex.users',true,false,'')";
        var (status, body, _) = await PostAsync(new { query = attack, schema = Acme, action, model = "stories", execute = true });
        if (status == 400)
        {
            // No valid statement came out of the two rounds: nothing ran.
            Assert.StartsWith("the statement was not executed because it is not valid: ", body["error"]!.GetValue<string>());
            return;
        }
        Assert.Equal(200, status);
        var sql = body["sql"]!.GetValue<string>();
        Assert.NotEqual(attack, sql);
        Assert.True(body["valid"]!.GetValue<bool>(), sql);
        var schema = (await server.Get<ISchemaSource>().GetAsync(Acme, default))!;
        Assert.NotNull(SqlQuery.TryParse(sql, schema, out _));
        Assert.NotNull(body["result"]);
    }
}

[Collection("postgres")]
public sealed class SqlAssistIsolationDefaultTests(DefaultIsolationServer server)
    : SqlAssistIsolationTests(server), IClassFixture<DefaultIsolationServer>
{
    [Fact]
    public async Task The_server_warns_that_its_superuser_connection_does_not_keep_tenants_apart()
    {
        var warning = Assert.Single(await server.DatabaseWarningsAsync());
        Assert.StartsWith("Platform:Database: the server connects to PostgreSQL as postgres, a superuser", warning);
    }
}

[Collection("postgres")]
public sealed class SqlAssistIsolationTenantRoleTests(TenantRoleIsolationServer server)
    : SqlAssistIsolationTests(server), IClassFixture<TenantRoleIsolationServer>
{
    [Fact]
    public async Task The_server_warns_that_its_connection_can_become_any_tenant()
    {
        Assert.StartsWith("Platform:Database: the server connects to PostgreSQL as postgres, a superuser", Assert.Single(await server.DatabaseWarningsAsync()));
    }
}

[Collection("postgres")]
public sealed class SqlAssistIsolationTenantLoginTests(TenantLoginIsolationServer server)
    : SqlAssistIsolationTests(server), IClassFixture<TenantLoginIsolationServer>
{
    [Fact]
    public async Task The_recommended_setup_draws_no_warning_and_each_login_reads_only_its_tenant()
    {
        // Both tenants used, so both logins have been checked too.
        var (status, _) = await SqlAssistServer.PostAsync(server, new { query = "SELECT count(*) FROM invoices", schema = TestDatabase.Globex, action = "explain", model = "tiny", execute = true },
            Support.TestTokens.For("bob", TestDatabase.Acme, TestDatabase.Globex));
        Assert.Equal(200, status);
        (status, _) = await SqlAssistServer.PostAsync(server, new { query = "SELECT count(*) FROM users", schema = TestDatabase.Acme, action = "explain", model = "tiny", execute = true });
        Assert.Equal(200, status);
        // The per-login check runs before a login's first statement; the server's own at start-up.
        Assert.Empty(await server.DatabaseWarningsAsync());
    }

    [Fact]
    public async Task The_built_ins_the_script_revoked_are_refused_by_PostgreSQL_itself()
    {
        // Defence in depth, without the parser: connected as acme's login, straight to PostgreSQL.
        var logins = await server.Database.TenantLoginsAsync();
        await using var login = NpgsqlDataSource.Create(TenantConnections.ConnectionStringFor(logins.TenantConnectionString, TestDatabase.Acme));
        foreach (var (sql, function) in new[]
                 {
                     ("SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery')", "ts_rewrite"),
                     ("SELECT query_to_xml('select 1', true, false, '')", "query_to_xml"),
                     ("SELECT pg_read_file('/etc/passwd', 0, 10)", "pg_read_file"),
                     ("SELECT txid_current()", "txid_current"),
                     ("SELECT pg_advisory_lock(1)", "pg_advisory_lock"),
                     ("SELECT pg_terminate_backend(1)", "pg_terminate_backend"),
                 })
        {
            await using var command = login.CreateCommand(sql);
            var ex = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
            Assert.Equal($"permission denied for function {function}", ex.MessageText);
        }
        await using var other = login.CreateCommand("SELECT count(*) FROM tenant_globex.users");
        Assert.Equal("permission denied for schema tenant_globex", (await Assert.ThrowsAsync<PostgresException>(() => other.ExecuteScalarAsync())).MessageText);
        await using var own = login.CreateCommand("SELECT count(*) FROM tenant_acme.users");
        Assert.Equal(2_000L, await own.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_server_login_that_can_set_role_into_every_tenant_is_warned_about()
    {
        // What Platform:Database:TenantRole needs: a login that is a member of each tenant's role.
        var member = "inference_member_" + Guid.NewGuid().ToString("N")[..10];
        var password = Guid.NewGuid().ToString("N");
        var readers = string.Join(", ", new[] { TestDatabase.Acme, TestDatabase.Globex }.Select(s => server.Database.TenantRole.Replace("{schema}", s)));
        await server.Database.ExecuteAsync($"CREATE ROLE {member} LOGIN NOINHERIT PASSWORD '{password}'; GRANT {readers} TO {member}");
        try
        {
            var logs = new CapturedLogs();
            using var factory = new LoggerFactory([logs]);
            var connection = new NpgsqlConnectionStringBuilder(server.Database.ConnectionString) { Username = member, Password = password, Pooling = false };
            await using var source = NpgsqlDataSource.Create(connection.ConnectionString);
            var check = new TenantIsolationCheck(source, new TenantSchemaName(), factory.CreateLogger<TenantIsolationCheck>());
            await check.StartAsync(default);
            await check.Completed;
            Assert.Equal(
                $"Platform:Database: PostgreSQL role {member} can read the tables of 2 tenant schemas (tenant_acme, tenant_globex): PostgreSQL does not keep "
                + "tenants apart, only the SQL checks do. Give each tenant its own login with Platform:Database:TenantConnectionString (README: Database setup for tenant isolation)",
                Assert.Single(logs.Entries).Message);
        }
        finally
        {
            await server.Database.ExecuteAsync($"DROP ROLE {member}");
        }
    }

    [Fact]
    public async Task A_login_that_can_read_another_tenant_is_warned_about()
    {
        var logins = await server.Database.TenantLoginsAsync();
        var acmeLogin = logins.LoginRole.Replace("{schema}", TestDatabase.Acme);
        await server.Database.ExecuteAsync($"GRANT USAGE ON SCHEMA tenant_globex TO {acmeLogin}; GRANT SELECT ON tenant_globex.invoices TO {acmeLogin}");
        try
        {
            var logs = new CapturedLogs();
            using var factory = new LoggerFactory([logs]);
            var check = new TenantIsolationCheck(server.Database.DataSource, new TenantSchemaName(), factory.CreateLogger<TenantIsolationCheck>());
            await using var login = NpgsqlDataSource.Create(TenantConnections.ConnectionStringFor(logins.TenantConnectionString, TestDatabase.Acme));
            await check.CheckTenantLoginAsync(login, TestDatabase.Acme);
            var warning = Assert.Single(logs.Entries);
            Assert.Equal(LogLevel.Warning, warning.Level);
            Assert.Equal($"Platform:Database:TenantConnectionString: the login for schema tenant_acme ({acmeLogin}) can read the tables of other tenants (tenant_globex)",
                warning.Message);

            // The same login without the extra grant draws no warning.
            await server.Database.ExecuteAsync($"REVOKE SELECT ON tenant_globex.invoices FROM {acmeLogin}");
            await check.CheckTenantLoginAsync(login, TestDatabase.Acme);
            Assert.Single(logs.Entries);
        }
        finally
        {
            await server.Database.ExecuteAsync($"REVOKE SELECT ON tenant_globex.invoices FROM {acmeLogin}; REVOKE USAGE ON SCHEMA tenant_globex FROM {acmeLogin}");
        }
    }
}
