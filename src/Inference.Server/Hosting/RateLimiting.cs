using System.Globalization;
using System.Threading.RateLimiting;
using Inference.Server.Metrics;
using Inference.Server.Ollama;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Inference.Server.Hosting;

/// <summary>
/// Optional per-client request limits on the API routes (ASP.NET Core's rate limiter, fixed
/// window per client address). Off by default, as in Ollama; rejections are 429 with
/// Retry-After and the API's JSON error, and are counted in the metrics.
/// </summary>
public static class RateLimiting
{
    public static IServiceCollection AddApiRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                int permits = http.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value.RequestsPerMinute;
                if (permits <= 0 || !(http.Request.Path.StartsWithSegments("/api") || http.Request.Path.StartsWithSegments("/v1")))
                    return RateLimitPartition.GetNoLimiter("unlimited");
                var client = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permits,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            options.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                http.RequestServices.GetRequiredService<InferenceMetrics>().RateLimited(http.Request.Path.Value ?? "");
                int seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? (int)Math.Ceiling(retry.TotalSeconds) : 60;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await OllamaErrors.Error(StatusCodes.Status429TooManyRequests, $"rate limit exceeded: try again in {seconds} s").ExecuteAsync(http);
            };
        });
        return services;
    }
}
