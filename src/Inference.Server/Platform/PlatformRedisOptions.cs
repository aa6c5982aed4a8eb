namespace Inference.Server.Platform;

/// <summary>
/// Redis shared by every replica (section "Platform:Redis"): with a connection string, the per-user
/// /ai/* limits are counted in Redis so that they hold across replicas; without one, each process
/// counts on its own (one replica only).
/// </summary>
public sealed class PlatformRedisOptions
{
    /// <summary>StackExchange.Redis configuration string, e.g. "127.0.0.1:6379,password=..."; empty = no Redis.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// What /ai/* does when Redis cannot be asked: false (default) refuses with 503, so that no user
    /// gets past their limit; true lets the request through uncounted.
    /// </summary>
    public bool FailOpen { get; set; }

    /// <summary>The longest a request waits on Redis (connect, command) before the Redis-down behaviour applies (50-30000).</summary>
    public int TimeoutMilliseconds { get; set; } = 1000;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString);
}
