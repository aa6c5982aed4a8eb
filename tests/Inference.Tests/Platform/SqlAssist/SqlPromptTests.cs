using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>Table relevance, the token-budgeted schema part of the prompt, and reading table names back from SQL.</summary>
public sealed class SqlPromptTests
{
    private static readonly IReadOnlyList<TableInfo> Shop = SqlSchemaCorpus.Schemas["shop"];

    private static List<string> Rank(string request) => SqlPromptRelevance.Rank(Shop, request).Select(t => t.Name).ToList();

    [Fact]
    public void TablesNamedInTheRequestComeFirstThenTheirForeignKeyNeighbours()
    {
        // "orders" names a table; users (referenced) and order_items (referencing) are its neighbours.
        Assert.Equal(["orders", "order_items", "users", "products"], Rank("How many orders were placed last week?"));
        // Column words count too, less than table words: "price" is a products column.
        Assert.Equal("products", Rank("average price per category")[0]);
        // Singular and plural, snake_case and spaces meet.
        Assert.Equal("order_items", Rank("order item quantities")[0]);
    }

    [Fact]
    public void WithoutAnyMatchEveryTableIsStillOffered() =>
        Assert.Equal(["order_items", "orders", "products", "users"], Rank("something unrelated"));

    [Fact]
    public void TheSchemaPartStopsAtTheTokenBudgetButAlwaysHasTheBestTable()
    {
        var ranked = SqlPromptRelevance.Rank(Shop, "orders of users");
        int Count(string text) => text.Length; // one "token" per character keeps the arithmetic visible
        int first = Count(SqlPromptBuilder.Describe(ranked[0]) + "\n");
        int second = Count(SqlPromptBuilder.Describe(ranked[1]) + "\n");
        Assert.Equal([ranked[0]], SqlPromptBuilder.Fit(ranked, 1, Count));
        Assert.Equal([ranked[0], ranked[1]], SqlPromptBuilder.Fit(ranked, first + second, Count).Take(2));
        Assert.Equal(Shop.Count, SqlPromptBuilder.Fit(ranked, 100_000, Count).Count);
    }

    [Fact]
    public void TableLinesSpellNamesAsSqlNeedsThem()
    {
        var line = SqlPromptBuilder.Describe(SqlSchemaCorpus.Schemas["odd names"][1]);
        Assert.StartsWith("\"Order Items\": id integer primary key, \"Qty\" integer, \"unit price\" numeric, \"Note\"\"s\" character(8), \"user\" integer references \"user\"(id)", line);
        var orders = SqlPromptBuilder.Describe(Shop[2] with { EstimatedRows = 20000, Indexes = [new IndexInfo("orders_user_id_idx", ["user_id"], false)] });
        Assert.Equal("orders (~20000 rows): id bigint primary key, user_id integer references users(id), total numeric(10,2), status text, "
                     + "created_at timestamp without time zone, shipped boolean; indexes: (user_id)", orders);
    }

    [Theory]
    [InlineData("SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id", "orders,users")]
    [InlineData("select * from tenant_acme.orders, \"Order Items\" AS i where 'from x' = i.a -- join nope", "orders,Order Items")]
    [InlineData("DELETE FROM products WHERE id IN (SELECT product_id FROM order_items)", "products,order_items")]
    [InlineData("SELECT * FROM other_schema.orders", "")]
    [InlineData("SELECT 'unterminated FROM orders", "")]
    public void ReadsTableNamesAfterFromJoinUpdateAndInto(string sql, string expected) =>
        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), SqlAssistantTables.Named(sql, "tenant_acme"));
}
