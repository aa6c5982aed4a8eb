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
        Assert.Contains(server.Logs.Entries, e => e.Message.StartsWith("Platform generation finished", StringComparison.Ordinal));
        foreach (var e in server.Logs.Entries)
        {
            var all = e.Message + " " + string.Join(" ", e.Values.Values.Select(v => v?.ToString()));
            foreach (var secret in new[] { "Xylophone", "wombat", "Tangerine", "quasar", "Pomegranate", completion })
                Assert.DoesNotContain(secret, all, StringComparison.OrdinalIgnoreCase);
        }
    }
}
