using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Platform;

public sealed class RateLimitedPlatformServer : PlatformServer
{
    protected override IEnumerable<string> PlatformSettings => ["--Platform:RateLimits:GenerationPerHour=2"];
}

public sealed class PlatformRateLimitTests(RateLimitedPlatformServer server) : IClassFixture<RateLimitedPlatformServer>
{
    private static object Body => new { prompt = "Hi", model = "stories", max_tokens = 1 };

    [Fact]
    public async Task Each_user_gets_its_own_hourly_window_and_excess_requests_get_429_with_retry_after()
    {
        using var alice = TestTokens.Client(server, TestTokens.For("alice"));
        using var bob = TestTokens.Client(server, TestTokens.For("bob"));
        for (int i = 0; i < 2; i++) Assert.Equal(200, (int)(await alice.PostAsync("/ai/generate", TestServer.JsonContent(Body))).StatusCode);

        using var refused = await alice.PostAsync("/ai/generate", TestServer.JsonContent(Body));
        Assert.Equal(429, (int)refused.StatusCode);
        int retryAfter = int.Parse(refused.Headers.RetryAfter!.ToString());
        Assert.InRange(retryAfter, 3000, 3600); // the rest of the hour window
        Assert.StartsWith("rate limit exceeded: try again in ", (string)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!);

        // Another user is not affected, and other route groups have their own limits.
        Assert.Equal(200, (int)(await bob.PostAsync("/ai/generate", TestServer.JsonContent(Body))).StatusCode);
        Assert.Equal(200, (int)(await alice.GetAsync("/ai/models")).StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_token_are_401_and_never_use_up_a_users_window()
    {
        for (int i = 0; i < 5; i++) Assert.Equal(401, (int)(await server.Client.PostAsync("/ai/generate", TestServer.JsonContent(Body))).StatusCode);
        using var carol = TestTokens.Client(server, TestTokens.For("carol"));
        Assert.Equal(200, (int)(await carol.PostAsync("/ai/generate", TestServer.JsonContent(Body))).StatusCode);
    }
}
