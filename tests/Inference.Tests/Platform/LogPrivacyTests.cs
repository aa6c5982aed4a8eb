using Inference.Tests.Operations;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Inference.Tests.Platform;

/// <summary>A platform server that records every log entry, at every level and category.</summary>
public sealed class LogCapturingPlatformServer : PlatformServer
{
    public CapturedLogs Logs { get; } = new();
    protected override IEnumerable<string> PlatformSettings => ["--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace"];
    protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);
}

public sealed class LogPrivacyTests(LogCapturingPlatformServer server) : IClassFixture<LogCapturingPlatformServer>
{
    [Fact]
    public async Task A_full_request_cycle_never_writes_the_prompt_the_guidance_or_the_completion_to_the_logs()
    {
        const string prompt = "Xylophone wombat";
        const string context = "Tangerine quasar";
        using var client = TestTokens.Client(server, TestTokens.For("alice"));
        var body = System.Text.Json.Nodes.JsonNode.Parse(await (await client.PostAsync("/ai/generate",
            TestServer.JsonContent(new { prompt, context, system = "Pomegranate", model = "stories", temperature = 0, max_tokens = 16 }))).Content.ReadAsStringAsync())!;
        var completion = ((string)body["response"]!).Trim();
        Assert.True(completion.Length > 8, "the completion must be long enough to search the logs for");
        using (var stream = await client.PostAsync("/ai/generate", TestServer.JsonContent(new { prompt, model = "stories", max_tokens = 4, stream = true })))
            Assert.Equal(200, (int)stream.StatusCode);

        // The logs did record the requests (so the check below looks at real entries).
        Assert.Contains(server.Logs.Entries, e => e.Message.Contains("/ai/generate", StringComparison.Ordinal));
        Assert.Contains(server.Logs.Entries, e => e.Message.StartsWith("Generation finished on /ai/generate", StringComparison.Ordinal));
        foreach (var e in server.Logs.Entries)
        {
            var all = e.Message + " " + string.Join(" ", e.Values.Values.Select(v => v?.ToString()));
            foreach (var secret in new[] { "Xylophone", "wombat", "Tangerine", "quasar", "Pomegranate", completion })
                Assert.DoesNotContain(secret, all, StringComparison.OrdinalIgnoreCase);
        }
    }
}

/// <summary>The SQL assistant and code completion, with every log entry recorded.</summary>
[Collection("postgres")]
public sealed class SqlAndCodeLogPrivacyTests(Inference.Tests.Platform.Sql.TestDatabase database) : IAsyncLifetime
{
    private sealed class Server(Inference.Tests.Platform.Sql.TestDatabase database) : PlatformServer
    {
        public CapturedLogs Logs { get; } = new();
        protected override IEnumerable<string> PlatformSettings =>
            [.. database.ServerSettings, "--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace"];
        protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);
    }

    private readonly Server _server = new(database);
    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Sql_assist_with_execution_and_code_completion_never_log_questions_sql_rows_or_code()
    {
        using var client = TestTokens.Client(_server, TestTokens.For("alice", Inference.Tests.Platform.Sql.TestDatabase.Acme));
        const string question = "Which Zanzibar customers ordered Quetzalcoatl lamps?";
        using var sqlResponse = await client.PostAsync("/ai/sql/assist", TestServer.JsonContent(new
        {
            query = question, schema = Inference.Tests.Platform.Sql.TestDatabase.Acme, action = "generate", model = "stories", execute = true,
        }));
        var sql = System.Text.Json.Nodes.JsonNode.Parse(await sqlResponse.Content.ReadAsStringAsync())!;
        Assert.Equal(200, (int)sqlResponse.StatusCode);
        var generated = (string)sql["sql"]!;
        var cells = sql["result"]!["rows"]!.AsArray().SelectMany(r => r!.AsArray()).Select(c => c?.ToString() ?? "")
            .Where(c => c.Length >= 8).Distinct().Take(20).ToList();

        const string code = "def frobnicate_wibble(x):\n    return x * 42\n\nfrobnicate_wibble(";
        using var codeResponse = await client.PostAsync("/ai/code/complete", TestServer.JsonContent(new
        {
            code, language = "python", cursor_position = code.Length, model = "stories", n = 2, max_tokens = 12,
        }));
        Assert.Equal(200, (int)codeResponse.StatusCode);

        // The requests were logged (route, counts), so the search below looks at real entries.
        Assert.Contains(_server.Logs.Entries, e => e.Message.Contains("/ai/sql/assist", StringComparison.Ordinal));
        Assert.Contains(_server.Logs.Entries, e => e.Message.Contains("/ai/code/complete", StringComparison.Ordinal));
        var secrets = new List<string> { "Zanzibar", "Quetzalcoatl", "frobnicate", "wibble", generated };
        secrets.AddRange(cells);
        foreach (var e in _server.Logs.Entries)
        {
            var all = e.Message + " " + string.Join(" ", e.Values.Values.Select(v => v?.ToString()));
            foreach (var secret in secrets) Assert.DoesNotContain(secret, all, StringComparison.OrdinalIgnoreCase);
        }
    }
}
