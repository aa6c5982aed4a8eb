using System.Diagnostics;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.Replicas;

/// <summary>Two server processes sharing one Redis: the /ai/* per-user limits count once across both.</summary>
public sealed class TwoReplicas : IAsyncLifetime
{
    private readonly TempDirectory _modelsA = new(), _modelsB = new();
    public ServerProcess A { get; private set; } = null!;
    public ServerProcess B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // The real default limits (generation 100 per user and hour): nothing set but Redis.
        A = await Replica.StartAsync(_modelsA, TestRedis.Shared);
        B = await Replica.StartAsync(_modelsB, TestRedis.Shared);
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        _modelsA.Dispose();
        _modelsB.Dispose();
    }
}

public sealed class ReplicaRateLimitTests(TwoReplicas replicas) : IClassFixture<TwoReplicas>
{
    private static StringContent Body => TestServer.JsonContent(new { prompt = "Once", model = "stories", max_tokens = 1 });

    [Fact]
    public async Task A_user_alternating_replicas_gets_100_generations_an_hour_and_the_101st_is_429_on_either()
    {
        var token = TestTokens.For(Replica.NewUser("alice"));
        using var a = Replica.Client(replicas.A, token);
        using var b = Replica.Client(replicas.B, token);
        for (int i = 0; i < 100; i++)
        {
            using var ok = await (i % 2 == 0 ? a : b).PostAsync("/ai/generate", Body);
            Assert.True(200 == (int)ok.StatusCode, $"request {i + 1}: {(int)ok.StatusCode} {await ok.Content.ReadAsStringAsync()}");
        }
        foreach (var client in new[] { a, b })
        {
            using var refused = await client.PostAsync("/ai/generate", Body);
            Assert.Equal(429, (int)refused.StatusCode);
            Assert.InRange(int.Parse(refused.Headers.RetryAfter!.ToString()), 1, 3600);
            Assert.StartsWith("rate limit exceeded: try again in ", (string)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!);
        }

        // Another user has a window of their own on both replicas.
        using var bob = Replica.Client(replicas.B, TestTokens.For(Replica.NewUser("bob")));
        Assert.Equal(200, (int)(await bob.PostAsync("/ai/generate", Body)).StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_split_over_both_replicas_admit_exactly_the_limit()
    {
        var token = TestTokens.For(Replica.NewUser("carol"));
        using var a = Replica.Client(replicas.A, token);
        using var b = Replica.Client(replicas.B, token);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 140).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? a : b).PostAsync("/ai/generate", Body);
            return (int)response.StatusCode;
        }));
        Assert.Equal(100, statuses.Count(s => s == 200));
        Assert.Equal(40, statuses.Count(s => s == 429));
    }
}

/// <summary>Redis stopped while replicas run: fail closed (503) by default, fail open on request; never a hang.</summary>
public sealed class ReplicaRedisOutageTests
{
    private static StringContent Body => TestServer.JsonContent(new { prompt = "Once", model = "stories", max_tokens = 1 });

    [Fact]
    public async Task With_redis_stopped_the_default_is_a_quick_503_the_fail_open_replica_serves_and_both_recover()
    {
        using var modelsClosed = new TempDirectory();
        using var modelsOpen = new TempDirectory();
        var redis = await TestRedis.StartPrivate();
        int port = redis.Port;
        await using var closed = await Replica.StartAsync(modelsClosed, redis.Address, "--Platform:Redis:TimeoutMilliseconds=500");
        await using var open = await Replica.StartAsync(modelsOpen, redis.Address, "--Platform:Redis:TimeoutMilliseconds=500", "--Platform:Redis:FailOpen=true");
        var token = TestTokens.For(Replica.NewUser("dave"));
        using var toClosed = Replica.Client(closed, token);
        using var toOpen = Replica.Client(open, token);
        Assert.Equal(200, (int)(await toClosed.PostAsync("/ai/generate", Body)).StatusCode);
        Assert.Equal(200, (int)(await toOpen.PostAsync("/ai/generate", Body)).StatusCode);

        await redis.DisposeAsync();
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            using var refused = await toClosed.PostAsync("/ai/generate", Body);
            Assert.Equal(503, (int)refused.StatusCode);
            Assert.Equal("rate limit store (Redis) is unavailable: request refused, try again later",
                (string)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the 503 took {clock.Elapsed}");

            clock.Restart();
            using var served = await toOpen.PostAsync("/ai/generate", Body);
            Assert.Equal(200, (int)served.StatusCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the fail-open answer took {clock.Elapsed}");
        }
        // Routes that are not rate limited never ask Redis.
        Assert.Equal(200, (int)(await toClosed.GetAsync("/ai/models")).StatusCode);

        // Redis back on the same port: the fail-closed replica reconnects by itself.
        await using var restarted = await TestRedis.StartPrivate(port);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int status = 0;
        while (DateTime.UtcNow < deadline && status != 200)
        {
            using var response = await toClosed.PostAsync("/ai/generate", Body);
            status = (int)response.StatusCode;
            if (status != 200) await Task.Delay(250);
        }
        Assert.Equal(200, status);
    }
}
