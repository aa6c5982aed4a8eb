using System.Diagnostics;
using Inference.Engine.Backend;
using Inference.Engine.Models;
using Npgsql;

namespace Inference.Server.Platform;

/// <summary>
/// GET /services/status: each component the server depends on, probed now — the llama.cpp backend,
/// every loaded model's scheduler (a real tokenizer call on its weights), and PostgreSQL when
/// configured (SELECT 1 with a short timeout).
/// </summary>
public static class ServiceStatusApi
{
    public static IEndpointRouteBuilder MapServiceStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/services/status", StatusAsync)
            .WithTags("Platform")
            .Produces<List<ServiceStatus>>()
            .WithSummary("Probe the inference engine, loaded models and PostgreSQL");
        return app;
    }

    private static async Task<IResult> StatusAsync(HttpContext http, ModelManager models, CancellationToken ct)
    {
        var statuses = new List<ServiceStatus> { ProbeBackend() };
        foreach (var loaded in models.Loaded) statuses.Add(await ProbeModelAsync(models, loaded));
        if (http.RequestServices.GetService<NpgsqlDataSource>() is { } database) statuses.Add(await ProbeDatabaseAsync(database, ct));
        return TypedResults.Json(statuses, PlatformJsonContext.Wire.ListServiceStatus);
    }

    private static ServiceStatus ProbeBackend()
    {
        long started = Stopwatch.GetTimestamp();
        var (info, error) = NativeBackend.State;
        return new ServiceStatus
        {
            Name = "inference engine",
            Url = "llama.cpp://" + (info?.Loaded ?? "none"),
            Status = info is null ? "down" : "up",
            ResponseTimeMs = Elapsed(started),
            Detail = info is null ? error ?? "the llama.cpp backend has not loaded" : $"backend {info.Loaded}, GPU offload {(info.GpuOffload ? "on" : "off")}",
        };
    }

    private static async Task<ServiceStatus> ProbeModelAsync(ModelManager models, LoadedModel loaded)
    {
        long started = Stopwatch.GetTimestamp();
        var name = loaded.Definition.DisplayName;
        // Hold the model while probing it, without loading it or changing when it expires.
        var lease = models.TryAcquireLoaded(loaded.Definition.Key);
        if (lease is null) return new ServiceStatus { Name = "model " + name, Url = "model://" + name, Status = "down", Detail = "unloading" };
        try
        {
            bool up = lease.Runner.IsRunning && lease.Runner.Tokenize("status probe", false, false).Length > 0;
            return new ServiceStatus
            {
                Name = "model " + name,
                Url = "model://" + name,
                Status = up ? "up" : "down",
                ResponseTimeMs = Elapsed(started),
                Detail = up ? $"{lease.Runner.Stats.ActiveSequences} active, {lease.Runner.Stats.QueuedRequests} queued" : "the scheduler loop has stopped",
            };
        }
        finally
        {
            await lease.ReleaseAsync(ModelManager.RemainingKeepAlive(lease.Model));
        }
    }

    private static async Task<ServiceStatus> ProbeDatabaseAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        var url = $"postgresql://{builder.Host}:{builder.Port}/{builder.Database}";
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var command = database.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return new ServiceStatus { Name = "postgresql", Url = url, Status = "up", ResponseTimeMs = Elapsed(started) };
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return new ServiceStatus
            {
                Name = "postgresql", Url = url, Status = "down", ResponseTimeMs = Elapsed(started),
                Detail = ex is OperationCanceledException ? "no answer within 3 s" : ex.Message,
            };
        }
    }

    private static double Elapsed(long started) => Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3);
}
