using System.Text.Json.Nodes;
using Inference.Server.Platform.Sql;
using Inference.Tests.Platform.Sql;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// POST /ai/sql/assist end to end: real HTTP, real JWTs, the real tiny GGUF models and the real
/// PostgreSQL test database. Models write gibberish prose, so the tests assert shapes, validity,
/// identifiers, plans, suggestions, rows and refusals, never answer quality.
/// </summary>
[Collection("postgres")]
public sealed class SqlAssistApiTests(SqlAssistServer server) : IClassFixture<SqlAssistServer>
{
    private static readonly string[] StatementFields = ["sql", "explanation", "suggestions", "valid", "tables_used", "model"];
    // A statement EXPLAIN planned also carries the plan's outline.
    private static readonly string[] PlannedFields = [.. StatementFields, "plan"];

    private static List<string> Keys(JsonObject body) => body.Select(p => p.Key).Order(StringComparer.Ordinal).ToList();

    private static List<string> Strings(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<string>()).ToList();

    [Theory]
    [InlineData("stories")]
    [InlineData("tiny")]
    public async Task GenerateAnswersWithAValidStatementOverTheTenantsTablesOnly(string model)
    {
        var schema = await server.Get<ISchemaSource>().GetAsync(TestDatabase.Acme, default);
        var (status, body) = await server.AssistAsync(new { query = "total of paid orders per user", schema = TestDatabase.Acme, action = "generate", model });

        Assert.Equal(200, status);
        Assert.Equal(PlannedFields.Order(StringComparer.Ordinal), Keys(body));
        var sql = body["sql"]!.GetValue<string>();
        Assert.StartsWith("SELECT ", sql);
        Assert.Empty(SqlIdentifierCheck.Foreign(sql, schema!.Tables));
        Assert.True(body["valid"]!.GetValue<bool>(), sql);
        Assert.Null(await server.ExplainErrorAsync(TestDatabase.Acme, sql));
        Assert.NotEmpty(body["explanation"]!.GetValue<string>());
        Assert.Equal(model + ":latest", body["model"]!.GetValue<string>());
        var used = Strings(body["tables_used"]);
        Assert.NotEmpty(used);
        Assert.All(used, t => Assert.Contains(t, sql));
    }

    [Fact]
    public async Task ExplainEchoesTheStatementAndSuggestsFromItsPlan()
    {
        const string sql = "SELECT * FROM orders WHERE status = 'paid'";
        var (status, body) = await server.AssistAsync(new { query = sql, schema = TestDatabase.Acme, action = "explain", model = "tiny" });

        Assert.Equal(200, status);
        Assert.Equal(PlannedFields.Order(StringComparer.Ordinal), Keys(body));
        Assert.Equal(sql, body["sql"]!.GetValue<string>());
        Assert.True(body["valid"]!.GetValue<bool>());
        Assert.Equal(["orders"], Strings(body["tables_used"]));
        // orders has ~20,000 rows and no index on status: the plan's sequential scan earns a deterministic suggestion.
        Assert.Contains(Strings(body["suggestions"]), s => s.Contains("CREATE INDEX ON tenant_acme.orders (status);"));
        Assert.NotEmpty(body["explanation"]!.GetValue<string>());
        // The plan the suggestion came from, outlined: its top node is the sequential scan with the filter.
        Assert.StartsWith("Seq Scan on tenant_acme.orders (rows=", body["plan"]!.GetValue<string>());
        Assert.Matches(@"\) Filter: \((orders\.)?status = 'paid'::text\)", body["plan"]!.GetValue<string>());
    }

    [Fact]
    public async Task OptimizeReturnsAValidStatementAndThePlansSuggestions()
    {
        const string sql = "SELECT * FROM orders WHERE status = 'paid' ORDER BY total";
        var (status, body) = await server.AssistAsync(new { query = sql, schema = TestDatabase.Acme, action = "optimize", model = "stories" });

        Assert.Equal(200, status);
        Assert.Equal(PlannedFields.Order(StringComparer.Ordinal), Keys(body));
        var answer = body["sql"]!.GetValue<string>();
        Assert.True(body["valid"]!.GetValue<bool>(), answer);
        Assert.Null(await server.ExplainErrorAsync(TestDatabase.Acme, answer));
        var suggestions = Strings(body["suggestions"]);
        Assert.Contains(suggestions, s => s.Contains("CREATE INDEX ON tenant_acme.orders (status);"));
        Assert.Contains(suggestions, s => s.Contains("add a LIMIT"));
    }

    [Fact]
    public async Task FixTurnsABrokenStatementIntoAValidOne()
    {
        var (status, body) = await server.AssistAsync(new
        {
            query = "SELECT nme FROM users WHERE", schema = TestDatabase.Acme, action = "fix", model = "tiny",
            error = "syntax error at end of input",
        });
        Assert.Equal(200, status);
        Assert.Equal(PlannedFields.Order(StringComparer.Ordinal), Keys(body));
        var answer = body["sql"]!.GetValue<string>();
        Assert.True(body["valid"]!.GetValue<bool>(), answer);
        Assert.Null(await server.ExplainErrorAsync(TestDatabase.Acme, answer));
    }

    [Fact]
    public async Task AnInvalidGivenStatementIsReportedWithPostgresError()
    {
        var (status, body) = await server.AssistAsync(new { query = "SELECT nme FROM users", schema = TestDatabase.Acme, action = "explain", model = "stories" });
        Assert.Equal(200, status);
        Assert.Equal(StatementFields.Append("validation_error").Order(StringComparer.Ordinal), Keys(body));
        Assert.False(body["valid"]!.GetValue<bool>());
        Assert.Equal("column \"nme\" does not exist", body["validation_error"]!.GetValue<string>());
        Assert.Equal(["users"], Strings(body["tables_used"]));

        (status, body) = await server.AssistAsync(new { query = "SELECT 1; SELECT 2", schema = TestDatabase.Acme, action = "explain", model = "stories" });
        Assert.Equal(200, status);
        Assert.False(body["valid"]!.GetValue<bool>());
        Assert.Contains("single statement", body["validation_error"]!.GetValue<string>());

        (status, body) = await server.AssistAsync(new { query = "DELETE FROM orders", schema = TestDatabase.Acme, action = "explain", model = "stories" });
        Assert.Equal(200, status);
        Assert.False(body["valid"]!.GetValue<bool>());
        Assert.Equal("DELETE is not a read-only query: only SELECT statements reach the database", body["validation_error"]!.GetValue<string>());
        Assert.Equal(["orders"], Strings(body["tables_used"]));
    }

    [Fact]
    public async Task ExecuteReturnsRowsUpToTheLimitAndRefusesAnythingButAValidSelect()
    {
        var (status, body) = await server.AssistAsync(new
        {
            query = "SELECT id, email FROM users ORDER BY id", schema = TestDatabase.Acme, action = "explain", model = "tiny", execute = true,
        });
        Assert.Equal(200, status);
        Assert.Equal(PlannedFields.Append("result").Order(StringComparer.Ordinal), Keys(body));
        var result = body["result"]!.AsObject();
        Assert.Equal(["columns", "row_count", "rows", "truncated"], Keys(result));
        Assert.Equal(["id", "email"], Strings(result["columns"]));
        Assert.Equal(SqlAssistServer.RowLimit, result["row_count"]!.GetValue<int>());
        Assert.True(result["truncated"]!.GetValue<bool>());
        var rows = result["rows"]!.AsArray();
        Assert.Equal(SqlAssistServer.RowLimit, rows.Count);
        Assert.Equal(1, rows[0]![0]!.GetValue<int>());
        Assert.Equal("user1@acme.test", rows[0]![1]!.GetValue<string>());

        (status, body) = await server.AssistAsync(new { query = "count orders", schema = TestDatabase.Acme, action = "generate", model = "stories", execute = true });
        Assert.Equal(200, status);
        Assert.True(body["result"]!["row_count"]!.GetValue<int>() is >= 0 and <= SqlAssistServer.RowLimit);

        foreach (var refused in new[] { "DELETE FROM orders", "SELECT nme FROM users", "SELECT 1; DELETE FROM orders" })
        {
            (status, body) = await server.AssistAsync(new { query = refused, schema = TestDatabase.Acme, action = "explain", model = "stories", execute = true });
            Assert.Equal(400, status);
            Assert.Equal(["error"], Keys(body));
            Assert.StartsWith("the statement was not executed because it is not valid", body["error"]!.GetValue<string>());
        }
        Assert.Equal(20000L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM tenant_acme.orders"));
    }

    [Fact]
    public async Task AnotherTenantsSchemaIsForbiddenAndHostileNamesAreRefused()
    {
        var (status, body) = await server.AssistAsync(new { query = "list users", schema = TestDatabase.Globex, action = "generate" });
        Assert.Equal(403, status);
        Assert.Equal("the token does not grant access to schema tenant_globex", body["error"]!.GetValue<string>());

        // A token for both tenants may use globex, whose tables differ from acme's.
        (status, body) = await server.AssistAsync(new { query = "SELECT amount FROM invoices", schema = TestDatabase.Globex, action = "explain", model = "stories" },
            TestTokens.For("bob", TestDatabase.Acme, TestDatabase.Globex));
        Assert.Equal(200, status);
        Assert.True(body["valid"]!.GetValue<bool>());

        foreach (var hostile in new[] { "tenant_acme; DROP TABLE users", "pg_catalog", "information_schema", "Tenant_Acme", "public", "tenant_acme\n" })
        {
            (status, body) = await server.AssistAsync(new { query = "list users", schema = hostile, action = "generate" },
                TestTokens.For("mallory", hostile, TestDatabase.Acme));
            Assert.Equal(400, status);
            Assert.Contains("schema", body["error"]!.GetValue<string>());
        }

        // A tenant the token lists but the database lacks.
        (status, body) = await server.AssistAsync(new { query = "list users", schema = "tenant_nobody", action = "generate" },
            TestTokens.For("carol", "tenant_nobody"));
        Assert.Equal(404, status);
        Assert.Equal("schema tenant_nobody does not exist", body["error"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{}", "action is required (generate, explain, optimize or fix)")]
    [InlineData("""{"action": "drop", "query": "x", "schema": "tenant_acme"}""", "action must be generate, explain, optimize or fix (got \"drop\")")]
    [InlineData("""{"action": "generate", "schema": "tenant_acme"}""", "query is required: the question to answer with SQL")]
    [InlineData("""{"action": "explain", "query": " ", "schema": "tenant_acme"}""", "query is required: the SQL statement to explain")]
    [InlineData("""{"action": "generate", "query": "x"}""", "schema is required: the tenant schema the SQL is for")]
    [InlineData("""{"action": "generate", "query": "x", "schema": "tenant_acme", "error": "e"}""", "error is only used with action fix")]
    [InlineData("""{"action": "generate", "query": "x", "schema": "tenant_acme", "model": "nope"}""", "model 'nope' not found")]
    [InlineData("""{"action": "generate", "query": 5, "schema": "tenant_acme"}""", "invalid request: field 'query' has the wrong type")]
    [InlineData("""{"action": "generate", "query": "x", "schema": "tenant_acme", "execute": "yes"}""", "invalid request: field 'execute' has the wrong type")]
    [InlineData("not json", null)]
    public async Task MissingOrInvalidFieldsAre400(string json, string? message)
    {
        using var client = TestTokens.Client(server, TestTokens.For("alice", TestDatabase.Acme));
        using var response = await client.PostAsync("/ai/sql/assist", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(message is not null && message.StartsWith("model", StringComparison.Ordinal) ? 404 : 400, (int)response.StatusCode);
        Assert.Equal(["error"], Keys(body));
        if (message is not null) Assert.Equal(message, body["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task WithoutATokenTheRouteIs401()
    {
        using var response = await server.Client.PostAsync("/ai/sql/assist",
            TestServer.JsonContent(new { query = "x", schema = TestDatabase.Acme, action = "generate" }));
        Assert.Equal(401, (int)response.StatusCode);
        Assert.Equal("missing bearer token", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task TenantsListsTheTokensTenantsSortedAndNeedsAToken()
    {
        using (var client = TestTokens.Client(server, TestTokens.For("carol", TestDatabase.Globex, TestDatabase.Acme)))
        {
            var body = JsonNode.Parse(await client.GetStringAsync("/ai/sql/tenants"))!.AsObject();
            Assert.Equal(["tenants"], Keys(body));
            Assert.Equal([TestDatabase.Acme, TestDatabase.Globex], Strings(body["tenants"]));
        }
        using (var client = TestTokens.Client(server, TestTokens.For("dave")))
            Assert.Empty(Strings(JsonNode.Parse(await client.GetStringAsync("/ai/sql/tenants"))!["tenants"]));

        using var anonymous = await server.Client.GetAsync("/ai/sql/tenants");
        Assert.Equal(401, (int)anonymous.StatusCode);
        Assert.Equal("missing bearer token", JsonNode.Parse(await anonymous.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
    }
}
