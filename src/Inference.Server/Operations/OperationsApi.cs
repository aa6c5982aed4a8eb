using Inference.Server.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;

namespace Inference.Server.Operations;

/// <summary>Operational routes: liveness, readiness and Prometheus metrics (route handlers, so they appear in OpenAPI).</summary>
public static class OperationsApi
{
    public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, string> Checks);

    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var ops = app.MapGroup("").WithTags("Operations");
        ops.MapGet("/health", () => TypedResults.Ok(new HealthResponse("Healthy", new Dictionary<string, string>())))
            .WithSummary("Liveness: the process answers");
        ops.MapGet("/health/ready", ReadyAsync)
            .Produces<HealthResponse>(StatusCodes.Status200OK)
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Readiness: the llama.cpp backend loaded and every Inference:Preload model loaded");
        ops.MapGet("/metrics", MetricsAsync)
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithSummary("Prometheus metrics");
        return app;
    }

    private static async Task<IResult> ReadyAsync(HealthCheckService health, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(c => c.Tags.Contains("ready"), ct);
        var body = new HealthResponse(report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => e.Value.Description ?? e.Value.Status.ToString()));
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Ok(body)
            : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task MetricsAsync(HttpContext http, InferenceMetrics metrics)
    {
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await metrics.Registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted);
    }
}
