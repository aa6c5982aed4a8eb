using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;

namespace Inference.Server.Platform;

/// <summary>
/// Per-user hourly limits on the /ai/* route groups: one fixed window per token subject and group.
/// With Platform:Redis:ConnectionString the windows are counted in Redis (RedisRateLimiting), so a
/// user's limit holds across every replica; without it, in this process (ASP.NET Core's limiter).
/// Over-limit rejections share the server's 429 handler (Retry-After and a JSON error); a Redis
/// outage is a 503 (or, with Platform:Redis:FailOpen, the request goes through uncounted).
/// </summary>
public static class PlatformRateLimits
{
    public const string Generation = "ai-generation";
    public const string SqlAssist = "ai-sql-assist";
    public const string CodeCompletion = "ai-code-completion";

    public static IServiceCollection AddPlatformRateLimits(this IServiceCollection services)
    {
        services.AddSingleton<PlatformRedis>();
        services.AddHostedService<PlatformRedisConnector>();
        services.AddSingleton<PlatformResponseCache>();
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(Generation, new PerUserPolicy(Generation, o => o.GenerationPerHour));
            options.AddPolicy(SqlAssist, new PerUserPolicy(SqlAssist, o => o.SqlAssistPerHour));
            options.AddPolicy(CodeCompletion, new PerUserPolicy(CodeCompletion, o => o.CodeCompletionPerHour));
        });
        return services;
    }

    private sealed class PerUserPolicy(string group, Func<PlatformRateLimitOptions, int> permits) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = async (context, ct) =>
        {
            var http = context.HttpContext;
            if (context.Lease is StoreUnavailableLease)
            {
                await PlatformErrors.Error(StatusCodes.Status503ServiceUnavailable,
                    "rate limit store (Redis) is unavailable: request refused, try again later").ExecuteAsync(http);
                return;
            }
            // Over the limit: the server's one 429 handler (Hosting/RateLimiting.cs).
            var shared = http.RequestServices.GetRequiredService<IOptions<RateLimiterOptions>>().Value.OnRejected;
            if (shared is not null) await shared(context, ct);
        };

        public RateLimitPartition<string> GetPartition(HttpContext http)
        {
            var options = http.RequestServices.GetRequiredService<IOptions<PlatformOptions>>().Value;
            int limit = permits(options.RateLimits);
            // Authorization runs first, so an anonymous request never reaches this limiter.
            var user = http.User.FindFirst("sub")?.Value ?? "anonymous";
            if (limit <= 0) return RateLimitPartition.GetNoLimiter(group + ":unlimited");
            var window = TimeSpan.FromHours(1);
            if (!options.Redis.IsConfigured)
                return RateLimitPartition.GetFixedWindowLimiter(group + ":" + user, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limit,
                    Window = window,
                    QueueLimit = 0,
                });

            var redis = http.RequestServices.GetRequiredService<PlatformRedis>();
            var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Inference.Platform.RateLimits");
            // The Redis key holds the group, the limit (a changed limit starts a fresh window) and the user's subject.
            return RateLimitPartition.Get($"inference:{group}:{limit}:{user}", key => new SharedLimitStoreGuard(
                new RedisFixedWindowRateLimiter<string>(key, new RedisFixedWindowRateLimiterOptions
                {
                    ConnectionMultiplexerFactory = () => redis.Connection,
                    PermitLimit = limit,
                    Window = window,
                }),
                redis.Timeout, redis.Options.FailOpen, logger));
        }
    }
}
