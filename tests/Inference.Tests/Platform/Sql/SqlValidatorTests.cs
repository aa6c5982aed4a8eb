using System.Diagnostics;
using System.Text.Json;
using Inference.Server.Platform;
using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

[Collection("postgres")]
public sealed class SqlValidatorTests(TestDatabase database)
{
    private const string Acme = TestDatabase.Acme;

    private Task<SqlValidation> ValidateAsync(string sql, string schema = Acme, ISchemaSource? catalog = null) =>
        database.Validator(database.Options(), catalog).ValidateAsync(schema, sql, CancellationToken.None);

    private async Task<string?> ErrorAsync(string sql, string schema = Acme, ISchemaSource? catalog = null)
    {
        var validation = await ValidateAsync(sql, schema, catalog);
        Assert.False(validation.Valid, $"expected {sql} to be invalid");
        Assert.Null(validation.Plan);
        return validation.Error;
    }

    /// <summary>The catalog as it was a moment ago: it lists a table that has since become something else (the cache's TTL allows that).</summary>
    private sealed class StaleCatalog(ISchemaSource inner, string extraTable) : ISchemaSource
    {
        public async Task<TenantSchema?> GetAsync(string schema, CancellationToken ct) =>
            await inner.GetAsync(schema, ct) is { } tenant
                ? tenant with { Tables = [.. tenant.Tables, new TableInfo(extraTable, [new ColumnInfo("email", "text", true)], [], [], [], 0)] }
                : null;
    }

    [Fact]
    public async Task A_valid_query_has_its_plan()
    {
        var validation = await ValidateAsync("SELECT u.email, count(*) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.email;");
        Assert.True(validation.Valid);
        Assert.Null(validation.Error);
        var nodes = QueryPlan.Nodes(validation.Plan!.Value).ToList();
        Assert.Contains(nodes, n => n.Relation == "orders" && n.Schema == Acme);
        Assert.Contains(nodes, n => n.Relation == "users" && n.Schema == Acme);
        Assert.Contains("users u", QueryPlan.Describe(validation.Plan!.Value));
    }

    [Theory]
    [InlineData("SELECT * FROM invoices", "relation invoices is not a table of schema tenant_acme")]
    [InlineData("SELECT nme FROM users", "column \"nme\" does not exist")]
    [InlineData("SELECT id FROM users WHER id = 1", "syntax error at or near \"id\"")]
    [InlineData("SELECT id FROM users WHERE id = 'abc'", "invalid input syntax for type integer: \"abc\"")]
    [InlineData("SELECT id FROM users WHERE email = 'x", "unterminated quoted string at position 36")]
    [InlineData("  ;; -- nothing\n", "the statement is empty")]
    public async Task An_invalid_statement_is_refused_with_the_reason(string sql, string error)
    {
        Assert.Equal(error, await ErrorAsync(sql));
    }

    [Fact]
    public async Task An_unknown_schema_is_invalid()
    {
        Assert.Equal("schema \"tenant_nobody\" does not exist", await ErrorAsync("SELECT 1", "tenant_nobody"));
    }

    [Theory]
    [InlineData("SELECT 1; DELETE FROM orders")]
    [InlineData("SELECT 1; SELECT 2")]
    [InlineData("EXPLAIN SELECT 1; DELETE FROM orders;")]
    [InlineData("SELECT ';'; DELETE FROM orders -- ;")]
    [InlineData("SELECT $$ a $$; DELETE FROM orders")]
    public async Task More_than_one_statement_is_refused_and_nothing_runs(string sql)
    {
        var error = await ErrorAsync(sql);
        Assert.StartsWith("only a single statement is allowed", error);
        Assert.Equal(20_000L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.orders"));
    }

    [Theory]
    [InlineData("SELECT ';' AS semicolon -- ; DELETE FROM orders")]
    [InlineData("SELECT 'it''s; fine', E'\\'; still', $tag$ ; $tag$, \"id\" FROM users /* ; /* nested ; */ */ ;")]
    public async Task Semicolons_in_strings_and_comments_are_not_statements(string sql)
    {
        Assert.True((await ValidateAsync(sql)).Valid);
    }

    [Theory]
    [InlineData("DELETE FROM orders", "DELETE")]
    [InlineData("UPDATE users SET name = 'gone'", "UPDATE")]
    [InlineData("INSERT INTO users (email, name) SELECT email || 'x', name FROM users", "INSERT")]
    [InlineData("WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d", "DELETE")]
    public async Task Data_changes_never_reach_the_database(string sql, string keyword)
    {
        Assert.Equal($"{keyword} is not a read-only query: only SELECT statements reach the database", await ErrorAsync(sql));
        Assert.Equal(20_000L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.orders"));
        Assert.Equal(2_000L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.users WHERE name <> 'gone'"));
    }

    [Theory]
    [InlineData("DROP TABLE users", "DROP")]
    [InlineData("TRUNCATE orders", "TRUNCATE")]
    [InlineData("CREATE TABLE copy AS SELECT * FROM users", "CREATE")]
    [InlineData("EXPLAIN ANALYZE DELETE FROM orders", "EXPLAIN")]
    [InlineData("SET search_path = tenant_globex", "SET")]
    [InlineData("COPY users TO '/tmp/users'", "COPY")]
    public async Task Other_statements_are_refused_before_reaching_the_database(string sql, string keyword)
    {
        Assert.Equal($"{keyword} statements are not allowed: only SELECT statements reach the database", await ErrorAsync(sql));
        Assert.Equal(20_000L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.orders"));
    }

    [Fact]
    public async Task Validation_never_runs_the_query()
    {
        var watch = Stopwatch.StartNew();
        // 64 trillion rows: only planned, never computed.
        Assert.True((await ValidateAsync("SELECT count(*) FROM order_items a, order_items b, order_items c")).Valid);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task The_other_tenants_tables_are_not_the_tenants()
    {
        Assert.Equal("relation invoices is not a table of schema tenant_acme", await ErrorAsync("SELECT * FROM invoices"));
        // Same table name, other tenant: the columns are the requesting tenant's.
        Assert.Equal("column \"tier\" does not exist", await ErrorAsync("SELECT tier FROM users"));
        Assert.True((await ValidateAsync("SELECT tier FROM users", TestDatabase.Globex)).Valid);
    }

    [Theory]
    [InlineData("SELECT * FROM tenant_globex.users", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT * FROM \"tenant_globex\".\"users\"", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT * FROM TENANT_GLOBEX.USERS", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT u.id FROM users u WHERE u.id IN (SELECT user_id FROM tenant_globex.orders)", "relation tenant_globex.orders is outside schema tenant_acme")]
    [InlineData("SELECT tenant_globex.users.email FROM tenant_globex.users", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT * FROM pg_catalog.pg_namespace", "relation pg_catalog.pg_namespace is outside schema tenant_acme")]
    [InlineData("SELECT * FROM information_schema.tables", "relation information_schema.tables is outside schema tenant_acme")]
    [InlineData("SELECT * FROM pg_namespace", "relation pg_namespace is not a table of schema tenant_acme")]
    [InlineData("SELECT usename FROM pg_user", "relation pg_user is not a table of schema tenant_acme")]
    [InlineData("SELECT * FROM PG_CLASS c JOIN users u ON true", "relation pg_class is not a table of schema tenant_acme")]
    [InlineData("SELECT query_to_xml('select * from tenant_globex.users', true, false, '')", "function query_to_xml is not allowed")]
    [InlineData("SELECT set_config('search_path', 'tenant_globex', true)", "function set_config is not allowed")]
    [InlineData("SELECT pg_read_file('/etc/passwd')", "function pg_read_file is not allowed")]
    public async Task Other_schemas_the_catalog_and_functions_outside_the_allowlist_are_refused(string sql, string error)
    {
        Assert.Equal(error, await ErrorAsync(sql));
    }

    [Fact]
    public async Task A_view_in_the_tenants_schema_is_no_table_of_the_tenant()
    {
        await database.ExecuteAsync("CREATE VIEW tenant_acme.globex_users AS SELECT * FROM tenant_globex.users");
        try
        {
            Assert.Equal("relation globex_users is not a table of schema tenant_acme", await ErrorAsync("SELECT email FROM globex_users"));
        }
        finally
        {
            await database.ExecuteAsync("DROP VIEW tenant_acme.globex_users");
        }
    }

    [Fact]
    public async Task The_plan_refuses_another_schemas_relation_even_when_the_catalog_is_stale()
    {
        // The second layer: a table the (cached) catalog still lists has become a view over globex's
        // users. The parser accepts the statement; EXPLAIN's plan shows where it really reads.
        await database.ExecuteAsync("CREATE VIEW tenant_acme.globex_users AS SELECT * FROM tenant_globex.users");
        try
        {
            var stale = new StaleCatalog(database.Catalog(database.Options()), "globex_users");
            Assert.Equal("relation tenant_globex.users is outside schema tenant_acme", await ErrorAsync("SELECT email FROM globex_users", catalog: stale));
        }
        finally
        {
            await database.ExecuteAsync("DROP VIEW tenant_acme.globex_users");
        }
    }

    [Fact]
    public async Task The_tenants_own_schema_may_be_named_and_built_in_functions_used()
    {
        Assert.True((await ValidateAsync("SELECT lower(u.email), now(), pg_catalog.upper(o.status) FROM tenant_acme.users u, orders o")).Valid);
    }

    [Fact]
    public async Task Attribute_notation_cannot_call_a_function_the_allowlist_never_saw()
    {
        // PostgreSQL reads s.f, when s has no column f, as the call f(s): here to_json, which is no allowlisted function.
        const string call = "SELECT s.to_json FROM (SELECT 1 AS a) s";
        Assert.Equal("{\"a\":1}", await database.ScalarAsync<string>(call.Replace("SELECT s.to_json", "SELECT s.to_json::text")));
        Assert.Equal("column s.to_json is not a known column of s (a subquery's or WITH query's computed columns need a name given with AS)",
            await ErrorAsync(call));
        // A real column of the subquery is read as one.
        Assert.True((await ValidateAsync("SELECT s.a, s.email FROM (SELECT 1 AS a, email FROM users) s")).Valid);
    }

    [Fact]
    public async Task Functions_and_operators_resolve_in_pg_catalog_only()
    {
        // An object in the tenant's schema (or anywhere else on a default search path) cannot stand in for
        // a built-in: statements run with search_path = pg_catalog, pg_temp and name the tenant's tables qualified.
        await database.ExecuteAsync("""
            CREATE FUNCTION tenant_acme.lower(integer) RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM tenant_globex.users';
            CREATE FUNCTION tenant_acme.eq_users(tenant_acme.users, integer) RETURNS boolean LANGUAGE sql AS 'SELECT true';
            CREATE OPERATOR tenant_acme.= (LEFTARG = tenant_acme.users, RIGHTARG = integer, FUNCTION = tenant_acme.eq_users);
            """);
        try
        {
            Assert.Equal("function lower(integer) does not exist", await ErrorAsync("SELECT lower(5)"));
            Assert.Equal("operator does not exist: tenant_acme.users = integer", await ErrorAsync("SELECT u.id FROM users u WHERE u = 1"));
        }
        finally
        {
            await database.ExecuteAsync("DROP OPERATOR tenant_acme.= (tenant_acme.users, integer); DROP FUNCTION tenant_acme.eq_users; DROP FUNCTION tenant_acme.lower(integer)");
        }
    }

    [Theory]
    [InlineData("pg_catalog")]
    [InlineData("information_schema")]
    [InlineData("public")]
    [InlineData("tenant_acme; DROP TABLE tenant_acme.users")]
    [InlineData("tenant_acme'--")]
    [InlineData("tenant_acme\n")]
    public async Task A_hostile_schema_is_refused(string schema)
    {
        await Assert.ThrowsAsync<SqlRefusedException>(() => ValidateAsync("SELECT 1", schema));
        Assert.Equal(2_000L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.users"));
    }

    [Fact]
    public async Task The_plan_is_PostgreSQLs_json()
    {
        var plan = (await ValidateAsync("SELECT id, total FROM orders WHERE id = 5")).Plan!.Value;
        Assert.Equal(JsonValueKind.Array, plan.ValueKind);
        var root = QueryPlan.Root(plan)!.Value;
        Assert.Equal("orders", root.GetProperty("Relation Name").GetString());
        Assert.Equal("Index Scan", root.GetProperty("Node Type").GetString());
        Assert.Equal("orders_pkey", root.GetProperty("Index Name").GetString());
    }

    [Fact]
    public async Task A_tenant_login_validates_with_its_own_privileges()
    {
        var logins = await database.TenantLoginsAsync();
        var options = new PlatformDatabaseOptions { ConnectionString = logins.ServerConnectionString, TenantConnectionString = logins.TenantConnectionString };
        var validator = database.Validator(options);
        Assert.True((await validator.ValidateAsync(Acme, "SELECT count(*) FROM users", CancellationToken.None)).Valid);
        Assert.True((await validator.ValidateAsync(TestDatabase.Globex, "SELECT count(*) FROM invoices", CancellationToken.None)).Valid);
    }
}
