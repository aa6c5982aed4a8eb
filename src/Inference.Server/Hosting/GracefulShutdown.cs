using Inference.Engine.Models;
using Microsoft.Extensions.Options;

namespace Inference.Server.Hosting;

/// <summary>
/// At shutdown Kestrel stops accepting connections; in-flight streams then get the grace period
/// to finish. Whatever still runs after it is ended by unloading the models: each stream receives
/// its final object with done_reason "unload", so clients see a clean end instead of a cut connection.
/// </summary>
public sealed class GracefulShutdown(
    IHostApplicationLifetime lifetime,
    ModelManager models,
    IOptions<ServerOptions> options,
    ILogger<GracefulShutdown> logger) : IHostedService
{
    private Task _drain = Task.CompletedTask;

    public Task StartAsync(CancellationToken ct)
    {
        lifetime.ApplicationStopping.Register(() => _drain = DrainAsync());
        return Task.CompletedTask;
    }

    private async Task DrainAsync()
    {
        var deadline = DateTime.UtcNow + options.Value.ShutdownGracePeriod;
        int Active() => models.Loaded.Sum(m => m.Runner.Stats.ActiveSequences + m.Runner.Stats.QueuedRequests);
        while (Active() > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        int left = Active();
        if (left > 0) logger.LogWarning("Shutdown grace period over: ending {Sequences} in-flight generation(s)", left);
        await models.UnloadAllAsync();
        logger.LogInformation("All models unloaded");
    }

    public Task StopAsync(CancellationToken ct) => _drain.WaitAsync(ct);
}
