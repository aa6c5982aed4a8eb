using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Inference.Server.Platform;

/// <summary>
/// Per-user hourly limits on the /ai/* route groups (ASP.NET Core's rate limiter, one fixed window
/// per token subject and group). Rejections share the server's 429 handler: Retry-After and a JSON error.
/// </summary>
public static class PlatformRateLimits
{
    public const string Generation = "ai-generation";
    public const string SqlAssist = "ai-sql-assist";
    public const string CodeCompletion = "ai-code-completion";

    public static IServiceCollection AddPlatformRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(Generation, http => PerUser(http, Generation, o => o.GenerationPerHour));
            options.AddPolicy(SqlAssist, http => PerUser(http, SqlAssist, o => o.SqlAssistPerHour));
            options.AddPolicy(CodeCompletion, http => PerUser(http, CodeCompletion, o => o.CodeCompletionPerHour));
        });
        return services;
    }

    private static RateLimitPartition<string> PerUser(HttpContext http, string group, Func<PlatformRateLimitOptions, int> permits)
    {
        int limit = permits(http.RequestServices.GetRequiredService<IOptions<PlatformOptions>>().Value.RateLimits);
        // Authorization runs first, so an anonymous request never reaches this limiter.
        var user = http.User.FindFirst("sub")?.Value ?? "anonymous";
        if (limit <= 0) return RateLimitPartition.GetNoLimiter(group + ":unlimited");
        return RateLimitPartition.GetFixedWindowLimiter(group + ":" + user, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit,
            Window = TimeSpan.FromHours(1),
            QueueLimit = 0,
        });
    }
}
