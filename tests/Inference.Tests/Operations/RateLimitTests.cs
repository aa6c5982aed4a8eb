using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

public sealed class RateLimitedServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Server:RequestsPerMinute=3"];
}

public sealed class RateLimitTests(RateLimitedServer server) : IClassFixture<RateLimitedServer>
{
    [Fact]
    public async Task Requests_beyond_the_limit_get_429_with_retry_after_and_are_counted()
    {
        for (int i = 0; i < 3; i++) Assert.Equal(200, (int)(await server.Client.GetAsync("/api/tags")).StatusCode);
        using var refused = await server.Client.GetAsync("/api/tags");
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.True(int.Parse(refused.Headers.RetryAfter!.ToString()) is > 0 and <= 60);
        Assert.StartsWith("rate limit exceeded: try again in ", (string)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!);

        // Operational routes are not limited; the rejection is in the metrics.
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Equal(1, PrometheusText.Value(metrics, "inference_rate_limit_rejections_total{route=\"/api/tags\"}"));
    }
}
