using Inference.Engine.Models;
using Inference.Engine.Store;
using Inference.Server.Generation;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Inference.Server.Hosting;

/// <summary>
/// Inference:Preload: models loaded at start-up, before /health/ready turns ready, so a new replica
/// behind a load balancer takes traffic only once it can serve it without a cold load.
/// </summary>
public static class ModelPreload
{
    public const string Setting = "Inference:Preload";

    /// <summary>
    /// The names, as a list (Inference:Preload:0, Inference__Preload__0=...) or one comma-separated
    /// value (Inference__Preload=a,b), which is the handier form in an environment variable.
    /// </summary>
    public static IReadOnlyList<string> Names(IConfiguration configuration)
    {
        var section = configuration.GetSection(Setting);
        var values = section.GetChildren().Any()
            ? section.GetChildren().Select(c => c.Value ?? "")
            : (section.Value ?? "").Split(',');
        return [.. values.Select(v => v.Trim()).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Registers the preloading and its readiness check; call after the start-up registrations (--model).</summary>
    public static IServiceCollection AddModelPreload(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(new PreloadState(Names(configuration)));
        services.AddHostedService<PreloadService>();
        services.AddHealthChecks().AddCheck<PreloadHealthCheck>("preload", tags: ["ready"]);
        return services;
    }
}

/// <summary>Which preloads are done, shared by the loader and the readiness check.</summary>
public sealed class PreloadState(IReadOnlyList<string> names)
{
    private volatile string? _failure;
    private int _loaded;

    public IReadOnlyList<string> Names { get; } = names;
    public int Loaded => Volatile.Read(ref _loaded);
    public string? Failure => _failure;

    internal void MarkLoaded() => Interlocked.Increment(ref _loaded);
    internal void Fail(string message) => _failure = message;
}

/// <summary>
/// Checks every name at start-up (a name that is not in the models directory is a configuration
/// error: the process exits with a message rather than staying unready forever, which an orchestrator
/// would only show as a pod that never gets ready), then loads them one after another in the background
/// so /health (liveness) answers while big models load. Preloaded models are kept loaded (keep-alive forever):
/// a replica that unloaded them after five idle minutes would be ready without being able to serve quickly.
/// </summary>
public sealed class PreloadService(
    PreloadState state,
    ModelCatalog catalog,
    GenerationPipeline pipeline,
    IHostApplicationLifetime lifetime,
    ILogger<PreloadService> logger) : IHostedService
{
    private Task _loading = Task.CompletedTask;

    public Task StartAsync(CancellationToken ct)
    {
        var models = new List<ModelDefinition>();
        foreach (var name in state.Names)
        {
            if (!ModelName.TryParse(name, out var parsed, out var error))
                throw new InvalidOperationException($"{ModelPreload.Setting}: '{name}' is not a model name: {error}");
            models.Add(catalog.Find(parsed)
                ?? throw new InvalidOperationException($"{ModelPreload.Setting}: model '{name}' is not in the models directory (pull or create it first)"));
        }
        if (models.Count > 0) _loading = Task.Run(() => LoadAllAsync(models, lifetime.ApplicationStopping), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task LoadAllAsync(List<ModelDefinition> models, CancellationToken ct)
    {
        foreach (var model in models)
        {
            try
            {
                var took = await pipeline.LoadOnlyAsync(model, new ModelOptions(), Timeout.InfiniteTimeSpan, ct);
                state.MarkLoaded();
                logger.LogInformation("Preloaded model {Model} in {Ms:F0} ms", model.DisplayName, took.TotalMilliseconds);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Stays unready with the reason in /health/ready; the process keeps running so the reason can be read.
                state.Fail($"preloading {model.DisplayName} failed: {ex.Message}");
                logger.LogError("Preloading model {Model} failed: {Error}", model.DisplayName, ex.Message);
                return;
            }
        }
    }

    public Task StopAsync(CancellationToken ct) => _loading.WaitAsync(ct);
}

/// <summary>Readiness: every Inference:Preload model is loaded.</summary>
public sealed class PreloadHealthCheck(PreloadState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        if (state.Failure is { } failure) return Task.FromResult(HealthCheckResult.Unhealthy(failure));
        int loaded = state.Loaded, total = state.Names.Count;
        return Task.FromResult(loaded == total
            ? HealthCheckResult.Healthy(total == 0 ? "no models to preload" : $"{total} model(s) preloaded")
            : HealthCheckResult.Unhealthy($"preloading models: {loaded} of {total} loaded"));
    }
}
