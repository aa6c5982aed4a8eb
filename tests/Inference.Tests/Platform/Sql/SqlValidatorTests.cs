using System.Diagnostics;
using System.Text.Json;
using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

[Collection("postgres")]
public sealed class SqlValidatorTests(TestDatabase database)
{
    private const string Acme = TestDatabase.Acme;

    private PostgresSqlValidator Validator(Action<Inference.Server.Platform.PlatformDatabaseOptions>? configure = null) =>
        new(database.DataSource, new TenantSchemaName(), database.Options(configure));

    private Task<SqlValidation> ValidateAsync(string sql, string schema = Acme) => Validator().ValidateAsync(schema, sql, CancellationToken.None);

    private async Task<string?> ErrorAsync(string sql, string schema = Acme)
    {
        var validation = await ValidateAsync(sql, schema);
        Assert.False(validation.Valid, $"expected {sql} to be invalid");
        Assert.Null(validation.Plan);
        return validation.Error;
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
    [InlineData("SELECT * FROM invoices", "relation \"invoices\" does not exist")]
    [InlineData("SELECT nme FROM users", "column \"nme\" does not exist")]
    [InlineData("SELECT id FROM users WHER id = 1", "syntax error at or near \"id\"")]
    [InlineData("SELECT id FROM users WHERE id = 'abc'", "invalid input syntax for type integer: \"abc\"")]
    [InlineData("SELECT id FROM users WHERE email = 'x", "unterminated quoted string at position 36")]
    [InlineData("  ;; -- nothing\n", "the statement is empty")]
    public async Task An_invalid_statement_has_PostgreSQLs_error(string sql, string error)
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
    [InlineData("DELETE FROM orders")]
    [InlineData("UPDATE users SET name = 'gone'")]
    [InlineData("INSERT INTO users (email, name) SELECT email || 'x', name FROM users")]
    [InlineData("WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d")]
    public async Task Data_changes_are_explained_never_executed(string sql)
    {
        var validation = await ValidateAsync(sql);
        Assert.True(validation.Valid, validation.Error);
        Assert.Contains(QueryPlan.Nodes(validation.Plan!.Value), n => n.NodeType == "ModifyTable");
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
        Assert.Equal($"only SELECT, INSERT, UPDATE, DELETE and MERGE statements can be validated (this one starts with {keyword})", await ErrorAsync(sql));
        Assert.Equal(20_000L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.orders"));
    }

    [Fact]
    public async Task Validation_never_runs_the_query()
    {
        var watch = Stopwatch.StartNew();
        Assert.True((await ValidateAsync("SELECT pg_sleep(10)")).Valid);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task The_other_tenants_tables_are_not_on_the_search_path()
    {
        Assert.Equal("relation \"invoices\" does not exist", await ErrorAsync("SELECT * FROM invoices"));
        // Same table name, other tenant: the columns are the requesting tenant's.
        Assert.Equal("column \"tier\" does not exist", await ErrorAsync("SELECT tier FROM users"));
        Assert.True((await ValidateAsync("SELECT tier FROM users", TestDatabase.Globex)).Valid);
    }

    [Theory]
    [InlineData("SELECT * FROM tenant_globex.users")]
    [InlineData("SELECT * FROM \"tenant_globex\".\"users\"")]
    [InlineData("SELECT * FROM TENANT_GLOBEX.USERS")]
    [InlineData("SELECT u.id FROM users u WHERE u.id IN (SELECT user_id FROM tenant_globex.orders)")]
    [InlineData("SELECT tenant_globex.users.email FROM tenant_globex.users")]
    public async Task A_name_qualified_with_another_tenants_schema_is_refused(string sql)
    {
        Assert.Equal("schema \"tenant_globex\" is not this tenant's schema; only \"tenant_acme\" may be used", await ErrorAsync(sql));
    }

    [Theory]
    [InlineData("SELECT * FROM pg_catalog.pg_namespace", "schema \"pg_catalog\" may not be used; only the tenant's schema")]
    [InlineData("SELECT * FROM information_schema.tables", "schema \"information_schema\" may not be used; only the tenant's schema")]
    [InlineData("SELECT * FROM pg_namespace", "relation pg_catalog.pg_namespace is outside schema \"tenant_acme\"")]
    [InlineData("SELECT usename FROM pg_user", "relation pg_catalog.pg_authid is outside schema \"tenant_acme\"")]
    [InlineData("SELECT * FROM PG_CLASS c JOIN users u ON true", "relation pg_catalog.pg_class is outside schema \"tenant_acme\"")]
    [InlineData("SELECT query_to_xml('select * from tenant_globex.users', true, false, '')", "function query_to_xml() is not allowed")]
    [InlineData("SELECT set_config('search_path', 'tenant_globex', true)", "function set_config() is not allowed")]
    [InlineData("SELECT pg_read_file('/etc/passwd')", "function pg_read_file() is not allowed")]
    public async Task The_catalog_and_functions_that_run_sql_text_are_refused(string sql, string error)
    {
        Assert.Equal(error, await ErrorAsync(sql));
    }

    [Fact]
    public async Task A_view_in_the_tenants_schema_over_another_tenants_table_is_refused_by_the_plan()
    {
        await database.ExecuteAsync("CREATE VIEW tenant_acme.globex_users AS SELECT * FROM tenant_globex.users");
        try
        {
            Assert.Equal("relation tenant_globex.users is outside schema \"tenant_acme\"", await ErrorAsync("SELECT email FROM globex_users"));
        }
        finally
        {
            await database.ExecuteAsync("DROP VIEW tenant_acme.globex_users");
        }
    }

    [Fact]
    public async Task The_tenants_own_schema_may_be_named_and_functions_from_the_catalog_used()
    {
        Assert.True((await ValidateAsync("SELECT lower(u.email), now() FROM tenant_acme.users u, generate_series(1, 3) g")).Valid);
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
}
