using System.Security.Cryptography;
using System.Text;
using Inference.Server.Metrics;
using Microsoft.Extensions.Options;
using Prometheus;
using StackExchange.Redis;

namespace Inference.Server.Platform;

/// <summary>Response cache settings (section "Platform:ResponseCache"); it needs Platform:Redis.</summary>
public sealed class PlatformResponseCacheOptions
{
    /// <summary>Off by default: a cached answer is served to the same user for the same request, without running the model.</summary>
    public bool Enabled { get; set; }

    /// <summary>How long an answer stays in Redis.</summary>
    public int TtlSeconds { get; set; } = 3600;

    /// <summary>Answers larger than this (UTF-8 JSON bytes) are not stored.</summary>
    public int MaxEntryBytes { get; set; } = 64 * 1024;
}

/// <summary>
/// Deterministic /ai answers kept in Redis so that any replica can serve them. The key is a SHA-256
/// over the scope (the user and their tenants, so an entry never crosses users or tenants), the
/// model's manifest digest and the whole request; Redis holds that hash and the answer's JSON, never
/// the prompt. A Redis error is a miss (logged), never a failed request.
/// </summary>
public sealed class PlatformResponseCache
{
    private readonly PlatformRedis _redis;
    private readonly PlatformResponseCacheOptions _options;
    private readonly Counter _lookups;
    private readonly ILogger _logger;

    public PlatformResponseCache(PlatformRedis redis, IOptions<PlatformOptions> options, InferenceMetrics metrics, ILogger<PlatformResponseCache> logger)
    {
        _redis = redis;
        _options = options.Value.ResponseCache;
        _logger = logger;
        _lookups = Prometheus.Metrics.WithCustomRegistry(metrics.Registry).CreateCounter("inference_response_cache_lookups_total",
            "Response cache lookups on /ai routes, by result (hit: answered from Redis without running the model).", "route", "result");
    }

    public bool Enabled => _options.Enabled && _redis.Options.IsConfigured;

    /// <summary>
    /// Whether an answer may be cached: greedy decoding (temperature 0, the model's own default when
    /// the request sets none) or a fixed seed gives the same answer for the same request; anything
    /// else samples afresh each time and is never cached.
    /// </summary>
    public static bool IsDeterministic(float temperature, uint? seed) => temperature == 0f || seed is not null;

    /// <summary>The Redis key: route plus a hash of everything the answer depends on.</summary>
    public static string Key(string route, PlatformUser user, string modelDigest, IEnumerable<string> request)
    {
        var text = new StringBuilder();
        // Length-prefixed parts, so that no two different inputs give the same text.
        foreach (var part in new[] { user.Subject, string.Join(',', user.Tenants.Order(StringComparer.Ordinal)), modelDigest }.Concat(request))
            text.Append(part.Length).Append(':').Append(part);
        return $"inference:cache:{route}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))}";
    }

    public async Task<byte[]?> GetAsync(string route, string key)
    {
        byte[]? value = null;
        try
        {
            value = (byte[]?)await _redis.Connection.GetDatabase().StringGetAsync(key).WaitAsync(_redis.Timeout);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _logger.LogWarning("response cache lookup failed ({Error}); answering without it", e.GetType().Name + ": " + e.Message);
        }
        _lookups.WithLabels(route, value is null ? "miss" : "hit").Inc();
        return value;
    }

    public async Task SetAsync(string key, byte[] answer)
    {
        if (answer.Length > _options.MaxEntryBytes) return;
        try
        {
            await _redis.Connection.GetDatabase().StringSetAsync(key, answer, TimeSpan.FromSeconds(_options.TtlSeconds)).WaitAsync(_redis.Timeout);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _logger.LogWarning("response cache store failed ({Error})", e.GetType().Name + ": " + e.Message);
        }
    }
}
