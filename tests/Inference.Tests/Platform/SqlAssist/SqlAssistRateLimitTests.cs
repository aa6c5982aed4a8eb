using Inference.Tests.Support;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>The route's own hourly limit per user (Platform:RateLimits:SqlAssistPerHour), counted before the handler runs.</summary>
public sealed class SqlAssistRateLimitTests(SqlAssistRateLimitTests.Server server) : IClassFixture<SqlAssistRateLimitTests.Server>
{
    public sealed class Server : PlatformServer
    {
        protected override IEnumerable<string> PlatformSettings => ["--Platform:RateLimits:SqlAssistPerHour=2"];
    }

    [Fact]
    public async Task EachUserGetsTheConfiguredRequestsPerHour()
    {
        var body = new { action = "generate", query = "x" }; // refused with 400, after the limiter counted it
        var alice = TestTokens.For("alice", "tenant_acme");
        Assert.Equal(400, (await SqlAssistServer.PostAsync(server, body, alice)).Status);
        Assert.Equal(400, (await SqlAssistServer.PostAsync(server, body, alice)).Status);
        var (status, error) = await SqlAssistServer.PostAsync(server, body, alice);
        Assert.Equal(429, status);
        Assert.Equal(["error"], error.Select(p => p.Key));
        Assert.Equal(400, (await SqlAssistServer.PostAsync(server, body, TestTokens.For("bob", "tenant_acme"))).Status);
    }
}
