using System.Diagnostics;
using System.Text.Json;
using Inference.Server.Platform;
using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

[Collection("postgres")]
public sealed class SqlExecutorTests(TestDatabase database)
{
    private const string Acme = TestDatabase.Acme;

    // 40,000² rows: far longer than any statement timeout here.
    private const string Slow = "SELECT count(*) FROM order_items a, order_items b";

    private PostgresSqlExecutor Executor(Action<PlatformDatabaseOptions>? configure = null, ISchemaSource? catalog = null) =>
        database.Executor(database.Options(configure), catalog);

    private Task<QueryResult> RunAsync(string sql, string schema = Acme, Action<PlatformDatabaseOptions>? configure = null, ISchemaSource? catalog = null) =>
        Executor(configure, catalog).ExecuteAsync(schema, sql, CancellationToken.None);

    private async Task<string> RefusedAsync(string sql, Action<PlatformDatabaseOptions>? configure = null, ISchemaSource? catalog = null)
    {
        var ex = await Assert.ThrowsAsync<SqlRefusedException>(() => RunAsync(sql, configure: configure, catalog: catalog));
        return ex.Message;
    }

    /// <summary>The catalog as it was a moment ago, still listing a "table" that is now a view (the cache's TTL allows that).</summary>
    private sealed class StaleCatalog(ISchemaSource inner, string extraTable) : ISchemaSource
    {
        public async Task<TenantSchema?> GetAsync(string schema, CancellationToken ct) =>
            await inner.GetAsync(schema, ct) is { } tenant
                ? tenant with { Tables = [.. tenant.Tables, new TableInfo(extraTable, [new ColumnInfo("n", "bigint", true)], [], [], [], 0)] }
                : null;
    }

    [Fact]
    public async Task Rows_are_capped_at_the_row_limit_and_reported_truncated()
    {
        var result = await RunAsync("SELECT id, email FROM users ORDER BY id");
        Assert.Equal(["id", "email"], result.Columns);
        Assert.Equal(100, result.RowCount);
        Assert.Equal(100, result.Rows.Count);
        Assert.True(result.Truncated);
        Assert.Equal([1, "user1@acme.test"], result.Rows[0]);
        Assert.Equal([100, "user100@acme.test"], result.Rows[^1]);
    }

    [Fact]
    public async Task A_result_within_the_limit_is_whole()
    {
        var exact = await RunAsync("SELECT id FROM users ORDER BY id LIMIT 5", configure: o => o.RowLimit = 5);
        Assert.Equal(5, exact.RowCount);
        Assert.False(exact.Truncated);

        var more = await RunAsync("SELECT id FROM users ORDER BY id LIMIT 6", configure: o => o.RowLimit = 5);
        Assert.Equal(5, more.RowCount);
        Assert.True(more.Truncated);

        var none = await RunAsync("SELECT id FROM users WHERE false");
        Assert.Equal(["id"], none.Columns);
        Assert.Equal(0, none.RowCount);
        Assert.False(none.Truncated);
    }

    [Fact]
    public async Task Each_tenant_reads_its_own_tables()
    {
        Assert.Equal("user1@acme.test", (await RunAsync("SELECT email FROM users ORDER BY id LIMIT 1")).Rows[0][0]);
        Assert.Equal("user1@globex.test", (await RunAsync("SELECT email FROM users ORDER BY id LIMIT 1", TestDatabase.Globex)).Rows[0][0]);
        Assert.Equal(20_000L, (await RunAsync("SELECT count(*) AS n FROM orders")).Rows[0][0]);
        Assert.Equal(3_000L, (await RunAsync("WITH o AS (SELECT * FROM orders) SELECT count(*) FROM o", TestDatabase.Globex)).Rows[0][0]);
    }

    [Theory]
    [InlineData("DELETE FROM orders", "DELETE is not a read-only query: only SELECT statements reach the database")]
    [InlineData("UPDATE orders SET status = 'x'", "UPDATE is not a read-only query: only SELECT statements reach the database")]
    [InlineData("WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d", "DELETE is not a read-only query: only SELECT statements reach the database")]
    [InlineData("SELECT * INTO users_copy FROM users", "SELECT INTO is not allowed: queries here never create tables")]
    [InlineData("SELECT * FROM orders FOR UPDATE", "FOR UPDATE / FOR SHARE is not allowed: queries here never lock rows")]
    [InlineData("SELECT 1; DELETE FROM orders", "only a single statement is allowed; found 2")]
    [InlineData("DROP TABLE orders", "DROP statements are not allowed: only SELECT statements reach the database")]
    [InlineData("SELECT * FROM tenant_globex.orders", "relation tenant_globex.orders is outside schema tenant_acme")]
    [InlineData("SELECT * FROM invoices", "relation invoices is not a table of schema tenant_acme")]
    [InlineData("SELECT nextval('orders_id_seq')", "function nextval is not allowed")]
    // A failure only running shows: the read-only transaction is rolled back.
    [InlineData("SELECT 1 / (count(*) - count(*)) FROM orders", "division by zero")]
    public async Task Anything_but_one_read_only_query_is_refused_and_changes_nothing(string sql, string error)
    {
        Assert.Equal(error, await RefusedAsync(sql));
        Assert.Equal(20_000L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.orders"));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.orders WHERE status = 'x'"));
        Assert.Equal(20_000L, await database.ScalarAsync<long>("SELECT last_value FROM tenant_acme.orders_id_seq"));
        Assert.False(await database.ScalarAsync<bool>("SELECT to_regclass('tenant_acme.users_copy') IS NOT NULL"));
    }

    [Fact]
    public async Task A_query_past_the_statement_timeout_is_canceled()
    {
        var watch = Stopwatch.StartNew();
        var error = await RefusedAsync(Slow, o => o.StatementTimeout = TimeSpan.FromMilliseconds(300));
        Assert.Equal("the query ran longer than the statement timeout (0.3 s) and was canceled", error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Values_come_back_json_friendly()
    {
        // Types the language cannot cast to (json, arrays, bytea, inet) still come back from the tenant's own columns.
        await database.ExecuteAsync("""
            CREATE TABLE tenant_acme.value_kinds (doc jsonb, ints integer[], texts text[], raw bytea, addr inet);
            INSERT INTO tenant_acme.value_kinds VALUES ('{"a": [1, true]}', ARRAY[1, 2], ARRAY['a', NULL], '\x0102ff', '10.0.0.1');
            """);
        try
        {
            var result = await RunAsync("""
                SELECT 1 AS int, 2::bigint AS big, 1.50::numeric(4,2) AS num, 0.25::float8 AS dbl, 'NaN'::float8 AS nan,
                       'x'::text AS txt, true AS flag, NULL::int AS nothing,
                       timestamptz '2024-01-02 03:04:05.5+00' AS tstz, timestamp '2024-01-02 03:04:05' AS ts, date '2024-01-02' AS day,
                       time '13:14:15' AS tod, interval '1 year 2 months 3 days 04:05:06.5' AS span,
                       doc, ints, texts, '6f1c8a52-8a51-4a6c-9d7e-2b0d6c0f3a11'::uuid AS id, raw, addr
                FROM value_kinds
                """);
            var json = JsonSerializer.Serialize(result.Rows[0]);
            Assert.Equal(
                """[1,2,1.50,0.25,"NaN","x",true,null,"2024-01-02T03:04:05.5Z","2024-01-02T03:04:05","2024-01-02","13:14:15","P1Y2M3DT4H5M6.5S",{"a":[1,true]},[1,2],["a",null],"6f1c8a52-8a51-4a6c-9d7e-2b0d6c0f3a11","\\x0102ff","10.0.0.1"]""",
                json);
        }
        finally
        {
            await database.ExecuteAsync("DROP TABLE tenant_acme.value_kinds");
        }
    }

    [Fact]
    public async Task With_tenant_roles_or_logins_PostgreSQL_refuses_what_the_plan_cannot_show()
    {
        // The third layer. A view in acme's schema that calls a function reading globex's table: EXPLAIN
        // shows only a function call. The parser refuses views (they are no tables of the tenant), so this
        // takes a stale catalog that still lists "peek_view" as a table, as a cached one may for a while.
        await database.ExecuteAsync("""
            CREATE FUNCTION tenant_acme.peek() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM tenant_globex.users';
            CREATE VIEW tenant_acme.peek_view AS SELECT tenant_acme.peek() AS n;
            """);
        var logins = await database.TenantLoginsAsync();
        try
        {
            var stale = new StaleCatalog(database.Catalog(database.Options()), "peek_view");
            // As the connection's own role (a superuser here) it works: why tenant roles and logins exist.
            Assert.Equal(300L, (await RunAsync("SELECT n FROM peek_view", catalog: stale)).Rows[0][0]);

            await database.ExecuteAsync(
                $"GRANT SELECT ON tenant_acme.peek_view TO {database.TenantRole.Replace("{schema}", Acme)}, {logins.LoginRole.Replace("{schema}", Acme)}");
            Assert.Equal("permission denied for schema tenant_globex",
                await RefusedAsync("SELECT n FROM peek_view", o => o.TenantRole = database.TenantRole, stale));
            Assert.Equal("permission denied for schema tenant_globex",
                await RefusedAsync("SELECT n FROM peek_view", o => o.TenantConnectionString = logins.TenantConnectionString, stale));
            // The tenant's own tables stay readable under its role and its login.
            Assert.Equal(2_000L, (await RunAsync("SELECT count(*) FROM users", configure: o => o.TenantRole = database.TenantRole)).Rows[0][0]);
            Assert.Equal(2_000L, (await RunAsync("SELECT count(*) FROM users", configure: o => o.TenantConnectionString = logins.TenantConnectionString)).Rows[0][0]);
        }
        finally
        {
            await database.ExecuteAsync("DROP VIEW tenant_acme.peek_view; DROP FUNCTION tenant_acme.peek()");
        }
    }

    [Fact]
    public async Task A_tenant_without_a_role_is_refused_when_roles_are_configured()
    {
        await database.ExecuteAsync("CREATE SCHEMA tenant_norole");
        try
        {
            var ex = await Assert.ThrowsAsync<SqlRefusedException>(() =>
                RunAsync("SELECT 1", "tenant_norole", o => o.TenantRole = database.TenantRole));
            Assert.StartsWith("schema \"tenant_norole\" has no database role to run as", ex.Message);
        }
        finally
        {
            await database.ExecuteAsync("DROP SCHEMA tenant_norole");
        }
    }

    [Fact]
    public async Task Cancellation_by_the_caller_stops_the_query()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Executor().ExecuteAsync(Acme, Slow, cts.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}
