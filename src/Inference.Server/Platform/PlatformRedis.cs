using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Inference.Server.Platform;

/// <summary>
/// The one Redis connection of the process, made on first use. Every wait on it is bounded by
/// Platform:Redis:TimeoutMilliseconds and commands fail at once while it is disconnected (no backlog),
/// so a Redis outage turns into a quick error, never a hung request.
/// </summary>
public sealed class PlatformRedis(IOptions<PlatformOptions> options) : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _connection = new(() => Connect(options.Value.Redis));

    public PlatformRedisOptions Options => options.Value.Redis;
    public TimeSpan Timeout => TimeSpan.FromMilliseconds(Options.TimeoutMilliseconds);
    public IConnectionMultiplexer Connection => _connection.Value;

    private static ConnectionMultiplexer Connect(PlatformRedisOptions redis)
    {
        var config = ConfigurationOptions.Parse(redis.ConnectionString);
        config.AbortOnConnectFail = false; // start even while Redis is down, and reconnect when it is back
        config.SyncTimeout = config.AsyncTimeout = redis.TimeoutMilliseconds;
        // Only the handshake: commands never wait for it (FailFast), so a longer one cannot hold a request.
        config.ConnectTimeout = Math.Max(redis.TimeoutMilliseconds, 5000);
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ClientName = "inference-server";
        return ConnectionMultiplexer.Connect(config);
    }

    public void Dispose()
    {
        if (_connection.IsValueCreated) _connection.Value.Dispose();
    }
}

/// <summary>
/// Connects at start-up, not on the first /ai request: otherwise the first burst of requests finds the
/// connection still handshaking and (failing fast) gets the Redis-down answer.
/// </summary>
public sealed class PlatformRedisConnector(PlatformRedis redis) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (redis.Options.IsConfigured) _ = redis.Connection;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
