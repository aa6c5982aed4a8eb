using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

[Collection("postgres")]
public sealed class SchemaIntrospectorTests(TestDatabase database)
{
    private SchemaIntrospector Introspector() => new(database.DataSource, new TenantSchemaName(), database.Options());

    [Fact]
    public async Task Reads_tables_columns_types_keys_indexes_and_row_estimates()
    {
        var schema = (await Introspector().GetAsync(TestDatabase.Acme, CancellationToken.None))!;

        Assert.Equal(TestDatabase.Acme, schema.Name);
        Assert.Equal(["order_items", "orders", "products", "users"], schema.Tables.Select(t => t.Name));

        var users = schema.Table("users")!;
        Assert.Equal(
            [
                new ColumnInfo("id", "integer", false),
                new ColumnInfo("email", "character varying(200)", false),
                new ColumnInfo("name", "text", false),
                new ColumnInfo("country", "character(2)", true),
                new ColumnInfo("created_at", "timestamp with time zone", false),
            ],
            users.Columns);
        Assert.Equal(["id"], users.PrimaryKey);
        Assert.Empty(users.ForeignKeys);
        Assert.Equal(["users_email_key", "users_pkey"], users.Indexes.Select(i => i.Name));
        Assert.All(users.Indexes, i => Assert.True(i.Unique));
        Assert.Equal(2000, users.EstimatedRows);

        var orders = schema.Table("orders")!;
        Assert.Equal("bigint", orders.Columns[0].DataType);
        Assert.Equal("numeric(12,2)", orders.Columns.Single(c => c.Name == "total").DataType);
        Assert.True(orders.Columns.Single(c => c.Name == "shipped_at").Nullable);
        var fk = Assert.Single(orders.ForeignKeys);
        Assert.Equal(["user_id"], fk.Columns);
        Assert.Equal("users", fk.ReferencedTable);
        Assert.Equal(["id"], fk.ReferencedColumns);
        Assert.Equal(
            [("orders_created_at_idx", "created_at", false), ("orders_pkey", "id", true), ("orders_user_id_idx", "user_id", false)],
            orders.Indexes.Select(i => (i.Name, string.Join(",", i.Columns), i.Unique)));
        // reltuples after ANALYZE: exact for tables this small, approximate in general.
        Assert.InRange(orders.EstimatedRows, 19_000, 21_000);

        var items = schema.Table("order_items")!;
        Assert.Equal(["order_id", "product_id"], items.PrimaryKey);
        Assert.Equal(
            [("order_id", "orders", "id"), ("product_id", "products", "id")],
            items.ForeignKeys.Select(f => (string.Join(",", f.Columns), f.ReferencedTable, string.Join(",", f.ReferencedColumns))).OrderBy(f => f.Item1));
        Assert.Equal("order_id,product_id", string.Join(",", Assert.Single(items.Indexes).Columns));
        Assert.InRange(items.EstimatedRows, 38_000, 42_000);

        Assert.Equal(12, schema.Table("products")!.Columns.Count);
    }

    [Fact]
    public async Task Each_tenant_sees_only_its_own_tables()
    {
        var acme = (await Introspector().GetAsync(TestDatabase.Acme, CancellationToken.None))!;
        var globex = (await Introspector().GetAsync(TestDatabase.Globex, CancellationToken.None))!;

        Assert.Equal(["invoices", "orders", "products", "users"], globex.Tables.Select(t => t.Name));
        Assert.Null(acme.Table("invoices"));
        Assert.Equal(["id", "email", "full_name", "tier", "created_at"], globex.Table("users")!.Columns.Select(c => c.Name));
        Assert.Equal(["id", "email", "name", "country", "created_at"], acme.Table("users")!.Columns.Select(c => c.Name));
        Assert.Equal(300, globex.Table("users")!.EstimatedRows);
        Assert.Equal("orders", Assert.Single(globex.Table("invoices")!.ForeignKeys).ReferencedTable);
    }

    [Fact]
    public async Task An_unknown_schema_is_null()
    {
        Assert.Null(await Introspector().GetAsync("tenant_nobody", CancellationToken.None));
    }

    [Fact]
    public async Task A_key_to_another_schema_names_that_schema()
    {
        await database.ExecuteAsync("""
            CREATE SCHEMA tenant_crossref;
            CREATE TABLE tenant_crossref.notes (id int PRIMARY KEY, acme_user int REFERENCES tenant_acme.users (id), "Body Text" text);
            CREATE INDEX ON tenant_crossref.notes (lower("Body Text"));
            """);
        try
        {
            var schema = (await Introspector().GetAsync("tenant_crossref", CancellationToken.None))!;
            var notes = Assert.Single(schema.Tables);
            Assert.Equal("tenant_acme.users", Assert.Single(notes.ForeignKeys).ReferencedTable);
            Assert.Equal("Body Text", notes.Columns[2].Name);
            // Never analyzed: PostgreSQL's -1.
            Assert.Equal(-1, notes.EstimatedRows);
            Assert.Contains(notes.Indexes, i => i.Columns.SequenceEqual(["lower(\"Body Text\")"]));
        }
        finally
        {
            await database.ExecuteAsync("DROP SCHEMA tenant_crossref CASCADE");
        }
    }

    [Theory]
    [InlineData("pg_catalog")]
    [InlineData("information_schema")]
    [InlineData("pg_toast")]
    [InlineData("public")]
    [InlineData("tenant_acme'; DROP TABLE tenant_acme.users; --")]
    [InlineData("public; drop table users")]
    [InlineData("\"tenant_acme\"")]
    [InlineData("tenant_acme,tenant_globex")]
    [InlineData("Tenant_Acme")]
    [InlineData("")]
    public async Task Hostile_or_system_schema_names_are_refused_before_any_query(string schema)
    {
        await Assert.ThrowsAsync<SqlRefusedException>(() => Introspector().GetAsync(schema, CancellationToken.None));
        Assert.Equal(2000L, await database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.users"));
    }
}
