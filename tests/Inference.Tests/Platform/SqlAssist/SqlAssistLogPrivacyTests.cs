using System.Text.Json.Nodes;
using Inference.Tests.Operations;
using Inference.Tests.Platform.Sql;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// Every log entry of full /ai/sql/assist cycles (all levels and categories, repair round and
/// execute included) is searched for the request's question, statement, error text, DDL, the
/// generated SQL and the rows: none of them may be there.
/// </summary>
[Collection("postgres")]
public sealed class SqlAssistLogPrivacyTests(SqlAssistLogPrivacyTests.Server server) : IClassFixture<SqlAssistLogPrivacyTests.Server>
{
    public sealed class Server(TestDatabase database) : PlatformServer
    {
        public CapturedLogs Logs { get; } = new();
        protected override IEnumerable<string> PlatformSettings =>
            [.. database.ServerSettings, "--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace"];
        protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);
    }

    [Fact]
    public async Task NoQuestionStatementErrorDdlSqlOrRowReachesTheLogs()
    {
        var secrets = new List<string> { "Xylophone", "wombat", "Tangerine", "quasar", "Pomegranate", "user1@acme.test", "Zanzibar" };
        using var client = TestTokens.Client(server, TestTokens.For("alice", TestDatabase.Acme));
        async Task<JsonNode> Post(object body)
        {
            using var response = await client.PostAsync("/ai/sql/assist", TestServer.JsonContent(body));
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        }

        var generated = await Post(new { query = "Xylophone wombat orders", schema = TestDatabase.Acme, action = "generate", model = "stories" });
        secrets.Add(generated["sql"]!.GetValue<string>());
        var executed = await Post(new
        {
            query = "SELECT email FROM users WHERE name <> 'Tangerine quasar' ORDER BY id", schema = TestDatabase.Acme, action = "explain", model = "tiny", execute = true,
        });
        Assert.Equal("user1@acme.test", executed["result"]!["rows"]![0]![0]!.GetValue<string>());
        // fix of a broken statement: PostgreSQL's error names the column, and the repair round may run.
        var fixedUp = await Post(new { query = "SELECT Zanzibar FROM users", schema = TestDatabase.Acme, action = "fix", model = "tiny", error = "Pomegranate" });
        secrets.Add(fixedUp["sql"]!.GetValue<string>());
        await Post(new { query = "SELECT 1", schema = "tenant_nobody; Xylophone", action = "explain" });

        Assert.Contains(server.Logs.Entries, e => e.Message.Contains("/ai/sql/assist", StringComparison.Ordinal));
        Assert.Contains(server.Logs.Entries, e => e.Message.StartsWith("SQL assist Generate by stories:latest", StringComparison.Ordinal));
        foreach (var e in server.Logs.Entries)
        {
            var all = e.Message + " " + string.Join(" ", e.Values.Values.Select(v => v?.ToString()));
            foreach (var secret in secrets) Assert.DoesNotContain(secret, all, StringComparison.OrdinalIgnoreCase);
        }
    }
}
