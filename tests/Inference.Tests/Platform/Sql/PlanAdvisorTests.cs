using Inference.Server.Platform;
using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

/// <summary>Suggestions from real plans of the seeded tenants (see <see cref="TenantSeed"/> for the tables and indexes).</summary>
[Collection("postgres")]
public sealed class PlanAdvisorTests(TestDatabase database)
{
    private async Task<IReadOnlyList<PlanSuggestion>> SuggestAsync(string sql, string schema = TestDatabase.Acme, PlatformDatabaseOptions? options = null)
    {
        options ??= database.Options();
        var validation = await database.Validator(options).ValidateAsync(schema, sql, CancellationToken.None);
        Assert.True(validation.Valid, validation.Error);
        var tenant = await database.Catalog(options).GetAsync(schema, CancellationToken.None);
        return PlanAdvisor.Suggest(sql, validation.Plan, tenant!, options);
    }

    [Fact]
    public async Task A_sequential_scan_filtering_on_an_unindexed_column_of_a_large_table_gets_an_index()
    {
        var suggestion = Assert.Single(await SuggestAsync("SELECT id, total FROM orders WHERE status = 'cancelled'"));
        Assert.Equal(PlanAdvisor.MissingIndex, suggestion.Kind);
        Assert.Equal("CREATE INDEX ON tenant_acme.orders (status);", suggestion.Sql);
        Assert.Equal("Sequential scan on orders (~20,000 rows) filters on orders.status, which no index starts with: CREATE INDEX ON tenant_acme.orders (status);",
            suggestion.Message);
    }

    [Fact]
    public async Task A_join_on_an_unindexed_column_of_a_large_table_gets_an_index()
    {
        var suggestions = await SuggestAsync(
            "SELECT p.name, sum(i.quantity) FROM order_items i JOIN products p ON p.id = i.product_id GROUP BY p.name");
        var suggestion = Assert.Single(suggestions, s => s.Kind == PlanAdvisor.MissingIndex);
        Assert.Equal("CREATE INDEX ON tenant_acme.order_items (product_id);", suggestion.Sql);
        Assert.Contains("joins on order_items.product_id", suggestion.Message);
    }

    [Theory]
    [InlineData("SELECT id FROM orders WHERE user_id = 42")] // index scan
    [InlineData("SELECT id FROM orders WHERE created_at > '2000-01-01'")] // a sequential scan, but the column has an index
    [InlineData("SELECT id FROM users WHERE country = 'DE'")] // 2,000 rows... with the threshold raised below
    [InlineData("SELECT status, count(*) FROM orders GROUP BY status")] // no filter, no join
    [InlineData("SELECT id, status FROM orders ORDER BY id DESC LIMIT 20")]
    public async Task Plans_with_nothing_to_suggest(string sql)
    {
        var options = database.Options(o => o.LargeTableRows = 5_000);
        Assert.Empty(await SuggestAsync(sql, options: options));
    }

    [Fact]
    public async Task The_large_table_threshold_is_a_setting()
    {
        const string sql = "SELECT id FROM users WHERE country = 'DE'";
        Assert.Equal("CREATE INDEX ON tenant_acme.users (country);", Assert.Single(await SuggestAsync(sql)).Sql);
        Assert.Empty(await SuggestAsync(sql, options: database.Options(o => o.LargeTableRows = 2_001)));
    }

    [Fact]
    public async Task An_unbounded_sort_of_many_rows_gets_a_limit()
    {
        var suggestion = Assert.Single(await SuggestAsync("SELECT id, total FROM orders ORDER BY total DESC"));
        Assert.Equal(PlanAdvisor.UnboundedSort, suggestion.Kind);
        Assert.Equal("ORDER BY sorts ~20,000 rows of orders (by orders.total DESC) and returns them all: add a LIMIT if only the first rows are needed",
            suggestion.Message);
        Assert.Null(suggestion.Sql);

        Assert.Empty(await SuggestAsync("SELECT id, total FROM orders ORDER BY total DESC LIMIT 10"));
        // Over a join the rows are no one table's.
        var joined = Assert.Single(await SuggestAsync("SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id ORDER BY o.total"));
        Assert.StartsWith("ORDER BY sorts ~20,000 rows (by o.total)", joined.Message);
        Assert.Empty(await SuggestAsync("SELECT id, total FROM orders WHERE user_id = 7 ORDER BY total DESC"));
    }

    [Theory]
    [InlineData("SELECT * FROM products WHERE id < 10")]
    [InlineData("SELECT p.* FROM products p WHERE p.id < 10")]
    [InlineData("SELECT i.quantity, p.* FROM order_items i JOIN products AS p ON p.id = i.product_id WHERE i.order_id = 3")]
    public async Task SELECT_star_on_a_wide_table_gets_a_column_list(string sql)
    {
        var suggestion = Assert.Single(await SuggestAsync(sql), s => s.Kind == PlanAdvisor.SelectStar);
        Assert.Equal("SELECT * reads all 12 columns of products: name only the columns you need", suggestion.Message);
    }

    [Theory]
    [InlineData("SELECT * FROM users WHERE id < 10")] // 5 columns
    [InlineData("SELECT count(*) FROM products")]
    [InlineData("SELECT u.* FROM users u JOIN orders o ON o.user_id = u.id WHERE o.id = 1")]
    public async Task SELECT_star_on_a_narrow_table_is_fine(string sql)
    {
        Assert.DoesNotContain(await SuggestAsync(sql), s => s.Kind == PlanAdvisor.SelectStar);
    }

    [Fact]
    public async Task Suggestions_are_per_tenant()
    {
        // globex's products has 4 columns, its invoices 1,000 rows and no index on amount.
        Assert.Empty(await SuggestAsync("SELECT * FROM products WHERE id < 10", TestDatabase.Globex));
        var suggestion = Assert.Single(await SuggestAsync("SELECT id FROM invoices WHERE amount > 500", TestDatabase.Globex));
        Assert.Equal("CREATE INDEX ON tenant_globex.invoices (amount);", suggestion.Sql);
    }

    [Fact]
    public void Without_a_plan_only_SELECT_star_applies()
    {
        var schema = DdlSchemaParser.Parse("tenant_x", """
            CREATE TABLE wide (a int, b int, c int, d int, e int, f int, g int, h int, i int, j int);
            CREATE TABLE narrow (a int);
            """);
        var suggestion = Assert.Single(PlanAdvisor.Suggest("SELECT * FROM wide w JOIN narrow n ON n.a = w.a ORDER BY w.b", null, schema));
        Assert.Equal("SELECT * reads all 10 columns of wide: name only the columns you need", suggestion.Message);
        Assert.Empty(PlanAdvisor.Suggest("SELECT * FROM narrow", null, schema));
        Assert.Empty(PlanAdvisor.Suggest("not sql at all '", null, schema));
    }
}
