using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.Replicas;

/// <summary>Two replicas with the response cache on: a deterministic code completion made on A is served by B without running the model.</summary>
public sealed class ReplicaResponseCacheTests
{
    private static object Request(uint? seed) => new { code = "Once upon a time", language = "text", cursor_position = 16, model = "stories", n = 2, max_tokens = 8, seed };

    private static async Task<double> Metric(ServerProcess server, string name, string labels)
    {
        var text = await server.Client.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && labels.Split(',').All(l.Contains));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_seeded_completion_from_replica_A_is_served_by_B_as_a_hit_without_generating_and_never_to_another_user()
    {
        using var modelsA = new TempDirectory();
        using var modelsB = new TempDirectory();
        string[] cache = ["--Platform:ResponseCache:Enabled=true"];
        await using var a = await Replica.StartAsync(modelsA, TestRedis.Shared, cache);
        await using var b = await Replica.StartAsync(modelsB, TestRedis.Shared, cache);
        var token = TestTokens.For(Replica.NewUser("erin"));
        using var toA = Replica.Client(a, token);
        using var toB = Replica.Client(b, token);
        uint seed = (uint)Random.Shared.Next(1, int.MaxValue); // a fresh request: no earlier run cached it

        using var first = await toA.PostAsync("/ai/code/complete", TestServer.JsonContent(Request(seed)));
        Assert.Equal(200, (int)first.StatusCode);
        var answer = await first.Content.ReadAsStringAsync();
        Assert.Equal(2, JsonNode.Parse(answer)!["choices"]!.AsArray().Count);
        Assert.Equal(1, await Metric(a, "inference_response_cache_lookups_total", "result=\"miss\""));

        using var second = await toB.PostAsync("/ai/code/complete", TestServer.JsonContent(Request(seed)));
        Assert.Equal(200, (int)second.StatusCode);
        Assert.Equal("application/json", second.Content.Headers.ContentType!.MediaType);
        Assert.Equal(answer, await second.Content.ReadAsStringAsync());
        Assert.Equal(1, await Metric(b, "inference_response_cache_lookups_total", "result=\"hit\""));
        Assert.Equal(0, await Metric(b, "inference_response_cache_lookups_total", "result=\"miss\""));
        Assert.Equal(0, await Metric(b, "inference_generated_tokens_total", "stories")); // B never ran the model

        // Another user with the same request is a miss; a request without a seed is never looked up.
        using var other = Replica.Client(b, TestTokens.For(Replica.NewUser("frank")));
        Assert.Equal(200, (int)(await other.PostAsync("/ai/code/complete", TestServer.JsonContent(Request(seed)))).StatusCode);
        Assert.Equal(1, await Metric(b, "inference_response_cache_lookups_total", "result=\"miss\""));
        Assert.Equal(200, (int)(await toB.PostAsync("/ai/code/complete", TestServer.JsonContent(Request(null)))).StatusCode);
        Assert.Equal(1, await Metric(b, "inference_response_cache_lookups_total", "result=\"miss\""));
        Assert.Equal(1, await Metric(b, "inference_response_cache_lookups_total", "result=\"hit\""));
        Assert.True(await Metric(b, "inference_generated_tokens_total", "stories") > 0);
    }
}
