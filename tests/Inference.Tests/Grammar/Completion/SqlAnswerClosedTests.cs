using Inference.Engine.Models;
using Inference.Server.Platform.Sql;
using Inference.Tests.Platform;
using Inference.Tests.Platform.SqlAssist;
using Inference.Tests.Support;

namespace Inference.Tests.Grammar.Completion;

/// <summary>A server whose SQL answers are capped far below their grammar's bound (Platform:SqlAnswerTokenLimit).</summary>
public sealed class CappedSqlServer : PlatformServer
{
    public const int AnswerTokens = 14;

    protected override IEnumerable<string> PlatformSettings => [$"--Platform:SqlAnswerTokenLimit={AnswerTokens}"];
}

/// <summary>
/// The SQL assistant's grammar inherits the completeness guarantee: with a budget too small for the answer, the
/// answer is closed by its grammar (a SELECT over the DDL's tables and an explanation), not cut into a 500.
/// </summary>
public sealed class SqlAnswerClosedTests(CappedSqlServer server) : IClassFixture<CappedSqlServer>
{
    private const string Ddl = """
        CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL, balance numeric(10,2));
        CREATE TABLE invoices (id int PRIMARY KEY, account int REFERENCES accounts (id), due date, paid boolean);
        """;

    private static readonly string Token = TestTokens.For("dora", "tenant_dora");

    [Theory]
    [InlineData("stories", "generate")]
    [InlineData("tiny", "generate")]
    [InlineData("stories", "explain")]
    [InlineData("tiny", "explain")]
    public async Task A_cut_answer_is_still_a_complete_answer(string model, string action)
    {
        var stats = server.Get<ModelManager>();
        long Closed() => stats.AllStats.Where(s => s.Model.StartsWith(model + ":", StringComparison.Ordinal)).Sum(s => s.DocumentsClosed);
        long before = Closed();
        var query = action == "generate" ? "unpaid invoices with their account names" : "SELECT name FROM accounts WHERE balance > 10";
        var (status, body) = await SqlAssistServer.PostAsync(server, new { query, schema = "tenant_dora", action, model, ddl = Ddl }, Token);
        Assert.True(status == 200, body.ToJsonString());
        var sql = body["sql"]!.GetValue<string>();
        Assert.StartsWith("SELECT ", sql);
        if (action == "generate")
            Assert.Empty(SqlIdentifierCheck.Foreign(sql, DdlSchemaParser.Parse("tenant_dora", Ddl).Tables));
        Assert.False(string.IsNullOrWhiteSpace(body["explanation"]!.GetValue<string>()), "the answer has an explanation");
        // The answer was cut by the cap and closed by its grammar (without closing this was a 500).
        Assert.True(Closed() > before, "the cap did not cut the answer: the test shows nothing");
    }
}
