using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

/// <summary>
/// The SQL assistant's language without a database: what parses, what each refusal names, which
/// tables a statement reads and what PostgreSQL is given. The tenant's tables are those of
/// <see cref="TenantSeed"/>'s tenant_acme.
/// </summary>
public sealed class SqlQueryParserTests
{
    private static ColumnInfo C(string name, string type = "integer") => new(name, type, true);

    public static readonly TenantSchema Acme = new("tenant_acme",
    [
        new TableInfo("order_items", [C("order_id", "bigint"), C("product_id"), C("quantity"), C("unit_price", "numeric(10,2)")], [], [], [], 40_000),
        new TableInfo("orders", [C("id", "bigint"), C("user_id"), C("status", "text"), C("total", "numeric(12,2)"), C("created_at", "timestamp with time zone"),
            C("shipped_at", "timestamp with time zone")], ["id"], [], [], 20_000),
        new TableInfo("products", [C("id"), C("sku", "text"), C("name", "text"), C("category", "text"), C("price", "numeric(10,2)"), C("stock")], ["id"], [], [], 500),
        new TableInfo("users", [C("id"), C("email", "character varying(200)"), C("name", "text"), C("country", "character(2)"),
            C("created_at", "timestamp with time zone")], ["id"], [], [], 2_000),
        new TableInfo("pg_stats_copy", [C("n")], [], [], [], 0),
        new TableInfo("Order Log", [C("Id"), C("select", "text")], [], [], [], 0),
    ]);

    private static SqlQuery Parse(string sql)
    {
        var query = SqlQuery.TryParse(sql, Acme, out var error);
        Assert.True(query is not null, $"{sql}\n→ {error}");
        return query!;
    }

    private static string Refusal(string sql)
    {
        Assert.Null(SqlQuery.TryParse(sql, Acme, out var error));
        return error!;
    }

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("select id, email from users where id = 1")]
    [InlineData("SELECT u.email, count(*) AS n FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.email HAVING count(*) > 2 ORDER BY n DESC NULLS LAST LIMIT 10 OFFSET 5")]
    [InlineData("SELECT * FROM users u LEFT OUTER JOIN orders o ON o.user_id = u.id RIGHT JOIN order_items i ON i.order_id = o.id FULL JOIN products p USING (id)")]
    [InlineData("SELECT * FROM users CROSS JOIN products NATURAL JOIN orders")]
    [InlineData("SELECT * FROM (users u INNER JOIN orders o ON o.user_id = u.id) j")]
    [InlineData("SELECT DISTINCT ON (country) country, name FROM users ORDER BY country, name ASC")]
    [InlineData("SELECT DISTINCT country FROM users FETCH FIRST 3 ROWS ONLY")]
    [InlineData("SELECT id FROM users ORDER BY id OFFSET 2 ROWS FETCH NEXT 5 ROWS WITH TIES")]
    [InlineData("WITH big AS (SELECT * FROM orders WHERE total > 100), top AS MATERIALIZED (SELECT user_id FROM big) SELECT count(*) FROM top")]
    [InlineData("WITH users AS (SELECT * FROM users WHERE id < 10) SELECT email FROM users")]   // a CTE may shadow the table it reads
    [InlineData("SELECT id FROM users WHERE id IN (SELECT user_id FROM orders) AND EXISTS (SELECT 1 FROM orders o WHERE o.user_id = users.id)")]
    [InlineData("SELECT (SELECT max(total) FROM orders o WHERE o.user_id = u.id) AS biggest FROM users u")]
    [InlineData("SELECT id FROM users UNION ALL SELECT id FROM products EXCEPT SELECT user_id FROM orders INTERSECT SELECT 1 ORDER BY 1")]
    [InlineData("(SELECT id FROM users) UNION (SELECT id FROM products) LIMIT 3")]
    [InlineData("SELECT CASE WHEN total > 100 THEN 'big' WHEN total > 10 THEN 'medium' ELSE 'small' END FROM orders")]
    [InlineData("SELECT CASE status WHEN 'paid' THEN 1 ELSE 0 END FROM orders")]
    [InlineData("SELECT CAST(total AS numeric(10,2)), total::int, created_at::date, '2024-01-01'::timestamp with time zone, id::text::bigint FROM orders")]
    [InlineData("SELECT 1::double precision, 'x'::character varying(5), 'x'::varchar, '1 day'::interval, 'a'::pg_catalog.text")]
    [InlineData("SELECT date '2024-01-01', timestamp '2024-01-01 10:00', interval '1 day', time '10:00'")]
    [InlineData("SELECT * FROM orders WHERE shipped_at IS NULL OR shipped_at IS NOT NULL AND status IS DISTINCT FROM 'x'")]
    [InlineData("SELECT * FROM orders WHERE total BETWEEN 1 AND 2 AND total NOT BETWEEN SYMMETRIC 5 AND 3")]
    [InlineData("SELECT * FROM users WHERE email LIKE '%@acme.test' AND name NOT ILIKE 'x%' AND name LIKE 'a!%' ESCAPE '!'")]
    [InlineData("SELECT * FROM users WHERE country IN ('DE', 'FR') AND id NOT IN (1, 2, 3)")]
    [InlineData("SELECT -total + 2 * 3 / 4 % 5 - (1), 'a' || name, NOT true, total >= 1, total <> 2, total != 3 FROM orders, users")]
    [InlineData("SELECT lower(email), upper(name), length(name), substring(name FROM 1 FOR 3), substring(name, 2), position('@' IN email), trim(both ' ' from name), trim(name) FROM users")]
    [InlineData("SELECT coalesce(shipped_at, created_at), nullif(status, ''), greatest(1, 2), least(total, 10) FROM orders")]
    [InlineData("SELECT extract(year FROM created_at), date_trunc('month', created_at), now(), current_date, current_timestamp, localtimestamp(3) FROM orders")]
    [InlineData("SELECT created_at AT TIME ZONE 'UTC' FROM orders")]
    [InlineData("SELECT count(DISTINCT user_id), sum(total) FILTER (WHERE status = 'paid'), string_agg(status, ',' ORDER BY status), avg(total) FROM orders")]
    [InlineData("SELECT row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC), sum(total) OVER () FROM orders")]
    [InlineData("SELECT pg_catalog.lower(email), PG_CATALOG.count(*) FROM users")]
    [InlineData("SELECT \"email\", \"u\".\"id\", U&\"n\\0061me\" FROM \"users\" \"u\"")]
    [InlineData("SELECT tenant_acme.users.email FROM tenant_acme.users WHERE tenant_acme.users.id = 1")]
    [InlineData("SELECT u.* FROM users u")]
    [InlineData("VALUES (1, 'a'), (2, 'b')")]
    [InlineData("SELECT * FROM (VALUES (1), (2)) AS v (x)")]
    [InlineData("SELECT x FROM (SELECT id AS x FROM users) s WHERE s.x > 1")]
    [InlineData("SELECT \"Id\", \"Order Log\".\"select\" FROM \"Order Log\"")]
    [InlineData("SELECT n FROM pg_stats_copy")]   // a tenant table whose name starts with pg_: qualified, so the catalog cannot shadow it
    [InlineData("SELECT u.email FROM users u WHERE u.id = ANY (SELECT user_id FROM orders) AND u.id > ALL (SELECT 0)")]
    [InlineData("SELECT left(name, 2), right(name, 1), to_char(created_at, 'YYYY-MM'), round(1.5), abs(-1) FROM users")]
    [InlineData(";; SELECT 1 ;")]
    [InlineData("/* lead */ SELECT 1 -- tail")]
    [InlineData("SELECT timestamp FROM (SELECT 1 AS \"timestamp\") t")]   // a column called timestamp
    // alias.column on CTEs, subqueries, VALUES and joins: the columns they are known to have.
    [InlineData("SELECT s.n, s.email FROM (SELECT count(*) AS n, u.email FROM users u GROUP BY u.email) s")]
    [InlineData("WITH t (a, b) AS (SELECT id, email FROM users) SELECT t.a, t.b FROM t")]
    [InlineData("SELECT s.email, o.total FROM (SELECT u.* FROM users u) s JOIN (SELECT * FROM orders) o ON o.user_id = s.id")]
    [InlineData("SELECT v.x, w.column1 FROM (VALUES (1)) v (x), (VALUES (2)) w")]
    [InlineData("SELECT j.email, j.total FROM (users u JOIN orders o ON o.user_id = u.id) j")]
    [InlineData("SELECT s.id FROM (SELECT id FROM users UNION SELECT id FROM products) s")]
    [InlineData("SELECT u.a, u.email FROM users u (a)")]
    [InlineData("WITH t AS (SELECT \"Order Log\".\"select\" FROM \"Order Log\") SELECT t.\"select\" FROM t")]
    public void The_language_accepts_reporting_queries(string sql)
    {
        Parse(sql);
    }

    [Fact]
    public void Unqualified_tenant_tables_are_qualified_for_PostgreSQL_and_CTEs_are_not()
    {
        var query = Parse("/* c */ WITH t AS (SELECT id FROM users) SELECT o.id FROM orders o, t, \"Order Log\" JOIN tenant_acme.products p ON true -- x\n;");
        Assert.Equal("WITH t AS (SELECT id FROM users) SELECT o.id FROM orders o, t, \"Order Log\" JOIN tenant_acme.products p ON true", query.Text);
        Assert.Equal(
            "WITH t AS (SELECT id FROM \"tenant_acme\".users) SELECT o.id FROM \"tenant_acme\".orders o, t, \"tenant_acme\".\"Order Log\" JOIN tenant_acme.products p ON true",
            query.DatabaseText);
        Assert.Equal(["users", "orders", "Order Log", "products"], query.Tables);
        // Adjacent text cannot merge with the qualifier: it always starts with a quote.
        Assert.Equal("SELECT*FROM\"tenant_acme\".\"users\"", Parse("SELECT*FROM\"users\"").DatabaseText);
    }

    [Fact]
    public void Star_tables_are_those_a_star_expands()
    {
        Assert.Equal(["users", "orders"], Parse("SELECT * FROM users u JOIN orders o ON true").StarTables);
        Assert.Equal(["orders"], Parse("SELECT u.id, o.* FROM users u JOIN orders o ON true").StarTables);
        Assert.Empty(Parse("SELECT count(*) FROM users").StarTables);
        Assert.Empty(Parse("WITH t AS (SELECT id FROM users) SELECT * FROM t").StarTables);
    }

    [Theory]
    // The reproductions of issue 10: SQL text run by functions, Unicode-escaped names, side effects, information.
    [InlineData("SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, string_agg(quote_literal(email), '' | '')::tsquery FROM tenant_globex.users')::text", "function ts_rewrite is not allowed")]
    [InlineData("SELECT U&\"pg_\\0072ead_file\"('/etc/passwd',0,120)", "function pg_read_file is not allowed")]
    [InlineData("SELECT U&\"pg_\\006cs_dir\"('.')", "function pg_ls_dir is not allowed")]
    [InlineData("SELECT U&\"query_\\0074o_xml\"('select email from tenant_globex.users',true,false,'')", "function query_to_xml is not allowed")]
    [InlineData("SELECT U&\"pg_\\0074erminate_backend\"(42)", "function pg_terminate_backend is not allowed")]
    [InlineData("SELECT U&\"set_\\0063onfig\"('role','tenant_globex_reader',true)", "function set_config is not allowed")]
    [InlineData("SELECT U&\"set!0063onfig\" UESCAPE '!' ('role','x',true)", "function setconfig is not allowed")]
    [InlineData("SELECT U&\"set_!0063onfig\" UESCAPE '!'('role','x',true)", "function set_config is not allowed")]
    [InlineData("SELECT pg_create_physical_replication_slot('x', true)", "function pg_create_physical_replication_slot is not allowed")]
    [InlineData("SELECT pg_stat_reset()", "function pg_stat_reset is not allowed")]
    [InlineData("SELECT pg_switch_wal()", "function pg_switch_wal is not allowed")]
    [InlineData("SELECT pg_logical_emit_message(false, 'x', 'y')", "function pg_logical_emit_message is not allowed")]
    [InlineData("SELECT txid_current()", "function txid_current is not allowed")]
    [InlineData("SELECT * FROM pg_stat_get_activity(NULL)", "functions in FROM are not allowed (pg_stat_get_activity)")]
    [InlineData("SELECT pg_stat_get_activity(NULL)", "function pg_stat_get_activity is not allowed")]
    [InlineData("SELECT pg_show_all_settings()", "function pg_show_all_settings is not allowed")]
    [InlineData("SELECT pg_hba_file_rules()", "function pg_hba_file_rules is not allowed")]
    [InlineData("SELECT PG_CATALOG.PG_READ_FILE('x')", "function pg_catalog.pg_read_file is not allowed")]
    [InlineData("SELECT \"PG_READ_FILE\"('x')", "function \"PG_READ_FILE\" is not allowed")]
    [InlineData("SELECT tenant_acme.lower(email) FROM users", "function tenant_acme.lower is not allowed")]
    [InlineData("SELECT dblink('x', 'y')", "function dblink is not allowed")]
    [InlineData("SELECT nextval('orders_id_seq')", "function nextval is not allowed")]
    [InlineData("SELECT current_setting('data_directory')", "function current_setting is not allowed")]
    [InlineData("SELECT lo_import('/etc/passwd')", "function lo_import is not allowed")]
    [InlineData("SELECT pg_sleep(10)", "function pg_sleep is not allowed")]
    [InlineData("SELECT generate_series(1, 1000000000)", "function generate_series is not allowed")]
    [InlineData("SELECT repeat('x', 1000000000)", "function repeat is not allowed")]
    [InlineData("SELECT version()", "function version is not allowed")]
    [InlineData("SELECT xmlelement(name x)", "function \"xmlelement\" is not allowed")]
    // Relations: only the tenant's tables and CTEs.
    [InlineData("SELECT * FROM tenant_globex.users", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT * FROM \"tenant_globex\".\"users\"", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT * FROM TENANT_GLOBEX.USERS", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT * FROM U&\"tenant_\\0067lobex\".users", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT id FROM users WHERE id IN (SELECT user_id FROM tenant_globex.orders)", "relation tenant_globex.orders is outside schema tenant_acme")]
    [InlineData("SELECT tenant_globex.users.email FROM users", "relation tenant_globex.users is outside schema tenant_acme")]
    [InlineData("SELECT * FROM pg_catalog.pg_authid", "relation pg_catalog.pg_authid is outside schema tenant_acme")]
    [InlineData("SELECT * FROM information_schema.tables", "relation information_schema.tables is outside schema tenant_acme")]
    [InlineData("SELECT * FROM pg_class", "relation pg_class is not a table of schema tenant_acme")]
    [InlineData("SELECT * FROM pg_user", "relation pg_user is not a table of schema tenant_acme")]
    [InlineData("SELECT * FROM invoices", "relation invoices is not a table of schema tenant_acme")]
    [InlineData("SELECT * FROM \"Users\"", "relation \"Users\" is not a table of schema tenant_acme")]
    [InlineData("SELECT * FROM tenant_acme.nothing", "relation tenant_acme.nothing is not a table of schema tenant_acme")]
    [InlineData("SELECT * FROM otherdb.tenant_acme.users", "relation otherdb.tenant_acme.users names another database: only tables of schema tenant_acme may be used")]
    [InlineData("WITH t AS (SELECT * FROM t) SELECT 1", "relation t is not a table of schema tenant_acme")] // no RECURSIVE: a CTE does not see itself
    // Attribute notation: alias.name is a column of that table, never a function f(alias).
    [InlineData("SELECT u.peek FROM users u", "column u.peek does not exist (table users has no such column)")]
    [InlineData("SELECT users.row_to_json FROM users", "column users.row_to_json does not exist (table users has no such column)")]
    [InlineData("SELECT x.id FROM users u", "missing FROM-clause entry for table x")]
    [InlineData("SELECT s.to_json FROM (SELECT id FROM users) s",
        "column s.to_json is not a known column of s (a subquery's or WITH query's computed columns need a name given with AS)")]
    [InlineData("WITH t AS (SELECT 1 AS a) SELECT t.row_to_json FROM t",
        "column t.row_to_json is not a known column of t (a subquery's or WITH query's computed columns need a name given with AS)")]
    [InlineData("SELECT s.count FROM (SELECT count(*) FROM users) s",
        "column s.count is not a known column of s (a subquery's or WITH query's computed columns need a name given with AS)")]
    [InlineData("SELECT s.email FROM (SELECT * FROM users) s WHERE s.quote_literal IS NULL",
        "column s.quote_literal is not a known column of s (a subquery's or WITH query's computed columns need a name given with AS)")]
    [InlineData("SELECT j.to_jsonb FROM (users u JOIN orders o ON true) j",
        "column j.to_jsonb is not a known column of j (a subquery's or WITH query's computed columns need a name given with AS)")]
    [InlineData("SELECT u.id FROM users u (a)", "column u.id does not exist (the column list after alias u renamed the table's first columns)")]
    // Statements and clauses outside the language.
    [InlineData("DELETE FROM orders", "DELETE is not a read-only query: only SELECT statements reach the database")]
    [InlineData("UPDATE users SET name = 'gone'", "UPDATE is not a read-only query: only SELECT statements reach the database")]
    [InlineData("INSERT INTO users (email, name) SELECT email || 'x', name FROM users", "INSERT is not a read-only query: only SELECT statements reach the database")]
    [InlineData("MERGE INTO users u USING orders o ON true WHEN MATCHED THEN DELETE", "MERGE is not a read-only query: only SELECT statements reach the database")]
    [InlineData("WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d", "DELETE is not a read-only query: only SELECT statements reach the database")]
    [InlineData("DROP TABLE users", "DROP statements are not allowed: only SELECT statements reach the database")]
    [InlineData("EXPLAIN ANALYZE DELETE FROM orders", "EXPLAIN statements are not allowed: only SELECT statements reach the database")]
    [InlineData("SET search_path = tenant_globex", "SET statements are not allowed: only SELECT statements reach the database")]
    [InlineData("COPY users TO '/tmp/users'", "COPY statements are not allowed: only SELECT statements reach the database")]
    [InlineData("TABLE users", "TABLE statements are not allowed: only SELECT statements reach the database")]
    [InlineData("SELECT * INTO users_copy FROM users", "SELECT INTO is not allowed: queries here never create tables")]
    [InlineData("SELECT * FROM orders FOR UPDATE", "FOR UPDATE / FOR SHARE is not allowed: queries here never lock rows")]
    [InlineData("WITH RECURSIVE t AS (SELECT 1) SELECT 1", "WITH RECURSIVE is not allowed")]
    [InlineData("SELECT * FROM users, LATERAL (SELECT 1) x", "LATERAL is not allowed")]
    [InlineData("SELECT 1; DELETE FROM orders", "only a single statement is allowed; found 2")]
    [InlineData("SELECT ';'; SELECT 2 -- ;", "only a single statement is allowed; found 2")]
    [InlineData("  ;; -- nothing\n", "the statement is empty")]
    // Operators, casts, constants and syntax outside the language.
    [InlineData("SELECT 'a'::tsquery", "type tsquery is not allowed")]
    [InlineData("SELECT 'pg_authid'::regclass", "type regclass is not allowed")]
    [InlineData("SELECT CAST('x' AS pg_catalog.regproc)", "type pg_catalog.regproc is not allowed")]
    [InlineData("SELECT 1::int[]", "array types are not allowed")]
    [InlineData("SELECT regclass 'pg_authid'", "type regclass is not allowed")]
    [InlineData("SELECT email ~ 'x' FROM users", "operator ~ is not allowed")]
    [InlineData("SELECT 2 ^ 3", "operator ^ is not allowed")]
    [InlineData("SELECT 1 OPERATOR(pg_catalog.+) 2", "syntax error at or near \"(\"")]
    [InlineData("SELECT @ -1", "operator @ is not allowed")]
    [InlineData("SELECT $1", "parameters ($1) are not allowed: write the value into the statement")]
    [InlineData("SELECT B'101'", "bit-string constants are not allowed")]
    [InlineData("SELECT current_user", "CURRENT_USER is not allowed")]
    [InlineData("SELECT user", "USER is not allowed")]
    [InlineData("SELECT ARRAY[1, 2]", "ARRAY constructors are not allowed")]
    [InlineData("SELECT (1, 2)", "row constructors are not allowed")]
    [InlineData("SELECT name COLLATE \"C\" FROM users", "COLLATE is not allowed")]
    [InlineData("SELECT id FROM users WHERE", "syntax error at end of input")]
    [InlineData("SELECT id FROM users WHER id = 1", "syntax error at or near \"id\"")]
    [InlineData("SELECT left FROM users", "syntax error at or near \"left\"")]
    [InlineData("SELECT lower(email => 'x')", "named arguments are not allowed (in lower)")]
    [InlineData("SELECT row_number() OVER (ROWS UNBOUNDED PRECEDING) FROM users", "window frame clauses are not allowed")]
    [InlineData("SELECT id FROM users WHERE 123abc = 1", "trailing junk after numeric literal at position 28")]
    public void What_is_outside_the_language_is_refused_by_name(string sql, string error)
    {
        Assert.Equal(error, Refusal(sql));
    }

    [Fact]
    public void Deep_nesting_is_refused_without_exhausting_the_stack()
    {
        var deep = "SELECT " + new string('(', 10_000) + "1" + new string(')', 10_000);
        Assert.StartsWith("the statement is nested more than", Refusal(deep));
        var subqueries = string.Concat(Enumerable.Repeat("SELECT (", 5_000)) + "1" + new string(')', 5_000);
        Assert.StartsWith("the statement is nested more than", Refusal(subqueries));
        var joins = "SELECT 1 FROM " + new string('(', 5_000) + "users" + new string(')', 5_000);
        Assert.StartsWith("the statement is nested more than", Refusal(joins));
    }

    [Fact]
    public void Allowlisted_names_are_exact_after_normalization()
    {
        Parse("SELECT LOWER(email), \"lower\"(email), U&\"l\\006fwer\"(email) FROM users");
        Assert.Equal("function \"Lower\" is not allowed", Refusal("SELECT \"Lower\"(email) FROM users"));
        Assert.Null(SqlAllowlist.Function("pg_read_file"));
        Assert.Equal(SqlFunctionKind.Aggregate, SqlAllowlist.Function("count"));
        Assert.True(SqlAllowlist.IsType("timestamp with time zone"));
        Assert.False(SqlAllowlist.IsType("regclass"));
    }
}
