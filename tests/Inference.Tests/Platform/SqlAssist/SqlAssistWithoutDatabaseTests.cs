using Inference.Server.Platform.Sql;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// A server with no database: the request carries the schema's DDL, the grammar is built from it,
/// and the answer says honestly that nothing was validated. Executing needs a database.
/// </summary>
public sealed class SqlAssistWithoutDatabaseTests(PlatformServer server) : IClassFixture<PlatformServer>
{
    private const string Ddl = """"
        CREATE TABLE "Customer Accounts" ("Account Id" serial PRIMARY KEY, "Display ""Name""" text NOT NULL, balance numeric(10,2));
        CREATE TABLE invoices (id int PRIMARY KEY, account int REFERENCES "Customer Accounts" ("Account Id"), due date, paid boolean);
        """";

    private static readonly string Token = TestTokens.For("dora", "tenant_dora");

    [Theory]
    [InlineData("stories")]
    [InlineData("tiny")]
    public async Task GenerateUsesTheTablesOfTheDdlAndSaysItIsNotValidated(string model)
    {
        var schema = DdlSchemaParser.Parse("tenant_dora", Ddl);
        for (int i = 0; i < 3; i++)
        {
            var (status, body) = await SqlAssistServer.PostAsync(server,
                new { query = $"unpaid invoices and the balance of their accounts #{i}", schema = "tenant_dora", action = "generate", model, ddl = Ddl }, Token);
            Assert.Equal(200, status);
            var sql = body["sql"]!.GetValue<string>();
            Assert.StartsWith("SELECT ", sql);
            Assert.Empty(SqlIdentifierCheck.Foreign(sql, schema.Tables));
            Assert.False(body["valid"]!.GetValue<bool>());
            Assert.Equal("not validated: no database is configured", body["validation_error"]!.GetValue<string>());
            Assert.NotEmpty(body["tables_used"]!.AsArray());
        }
    }

    [Fact]
    public async Task WithoutDdlOrForExecuteTheRequestIsRefused()
    {
        var (status, body) = await SqlAssistServer.PostAsync(server, new { query = "x", schema = "tenant_dora", action = "generate", model = "stories" }, Token);
        Assert.Equal(400, status);
        Assert.Equal("no database is configured: send the schema's CREATE TABLE statements in ddl", body["error"]!.GetValue<string>());

        (status, body) = await SqlAssistServer.PostAsync(server,
            new { query = "SELECT 1", schema = "tenant_dora", action = "explain", model = "stories", ddl = Ddl, execute = true }, Token);
        Assert.Equal(400, status);
        Assert.Equal("execute needs a configured database; none is configured", body["error"]!.GetValue<string>());

        (status, body) = await SqlAssistServer.PostAsync(server,
            new { query = "SELECT 1", schema = "tenant_dora", action = "explain", model = "stories", ddl = "CREATE TABLE t (a text DEFAULT 'x" }, Token);
        Assert.Equal(400, status);
        Assert.StartsWith("ddl could not be read: ", body["error"]!.GetValue<string>());

        (status, _) = await SqlAssistServer.PostAsync(server, new { query = "x", schema = "tenant_other", action = "generate", ddl = Ddl }, Token);
        Assert.Equal(403, status);
    }

    /// <summary>
    /// A DDL (within its 200,000-character limit) whose table is too wide for any grammar llama.cpp may be given
    /// (1,503 columns, most named with 58 quotes and 4 digits: SQL-quoted, JSON-escaped and GBNF-escaped they outgrow the checker's
    /// bounds) is a 400 in the platform's shape, before any generation; the server answers the next request.
    /// </summary>
    [Fact]
    public async Task ATableTooWideForTheGrammarIsA400()
    {
        // Names stay within PostgreSQL's 63 bytes (longer ones are truncated as PostgreSQL does): 58 quotes and 4 digits.
        var column = "\"" + new string('"', 116);
        // A boolean and a jsonb column make the column lists differ (all, sortable, min/max, text), so none is shared.
        var ddl = "CREATE TABLE wide (id int PRIMARY KEY, flag boolean, doc jsonb, " + string.Join(", ", Enumerable.Range(1000, 1500).Select(i => $"{column}{i}\" text")) + ");";
        Assert.True(ddl.Length < 200_000);
        Assert.Throws<SqlRefusedException>(() => SqlGrammar.ForStatement(DdlSchemaParser.Parse("tenant_dora", ddl).Tables));

        var (status, body) = await SqlAssistServer.PostAsync(server,
            new { query = "everything", schema = "tenant_dora", action = "generate", model = "stories", ddl }, Token);
        Assert.Equal(400, status);
        Assert.StartsWith("the most relevant table is too wide to write SQL for", body["error"]!.GetValue<string>());

        (status, body) = await SqlAssistServer.PostAsync(server,
            new { query = "unpaid invoices", schema = "tenant_dora", action = "generate", model = "stories", ddl = Ddl }, Token);
        Assert.Equal(200, status);
        Assert.StartsWith("SELECT ", body["sql"]!.GetValue<string>());
    }

    [Fact]
    public async Task ExplainWithoutADatabaseStillChecksTheLanguage()
    {
        var (status, body) = await SqlAssistServer.PostAsync(server,
            new { query = "UPDATE invoices SET paid = true", schema = "tenant_dora", action = "explain", model = "stories", ddl = Ddl }, Token);
        Assert.Equal(200, status);
        Assert.False(body["valid"]!.GetValue<bool>());
        Assert.Equal("UPDATE is not a read-only query: only SELECT statements reach the database", body["validation_error"]!.GetValue<string>());
        Assert.Equal(["invoices"], body["tables_used"]!.AsArray().Select(n => n!.GetValue<string>()));

        // The tables are the DDL's; functions are the allowlist's.
        foreach (var (sql, error) in new[]
                 {
                     ("SELECT U&\"pg_\\0072ead_file\"('/etc/passwd') FROM invoices", "function pg_read_file is not allowed"),
                     ("SELECT * FROM payments", "relation payments is not a table of schema tenant_dora"),
                 })
        {
            (status, body) = await SqlAssistServer.PostAsync(server,
                new { query = sql, schema = "tenant_dora", action = "explain", model = "stories", ddl = Ddl }, Token);
            Assert.Equal(200, status);
            Assert.False(body["valid"]!.GetValue<bool>());
            Assert.Equal(error, body["validation_error"]!.GetValue<string>());
        }
    }
}
