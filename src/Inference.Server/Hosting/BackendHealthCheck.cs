using Inference.Engine.Backend;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Inference.Server.Hosting;

/// <summary>Readiness: the llama.cpp backend loaded (a requested CUDA backend that failed keeps this unhealthy).</summary>
public sealed class BackendHealthCheck : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var (info, error) = NativeBackend.State;
        return Task.FromResult(info is not null
            ? HealthCheckResult.Healthy($"llama.cpp backend {info.Requested} loaded ({info.Loaded})")
            : HealthCheckResult.Unhealthy(error ?? "the llama.cpp backend has not loaded yet"));
    }
}
