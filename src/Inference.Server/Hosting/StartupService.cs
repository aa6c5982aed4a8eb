using Inference.Engine.Backend;
using Inference.Engine.Models;
using Inference.Engine.Store;
using Microsoft.Extensions.Options;

namespace Inference.Server.Hosting;

/// <summary>At start-up: loads the native backend (logging what it is), prunes the models directory and registers --model files.</summary>
public sealed class StartupService(
    IOptions<EngineOptions> options,
    ModelImporter importer,
    ModelStore store,
    StartupModels models,
    ILoggerFactory loggers,
    ILogger<StartupService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var engine = options.Value;
        // A build of the user's own is checked (files, llama.cpp commit) before LLamaSharp touches it;
        // a bad one stops start-up: Program reports it as one configuration line and exit code 2.
        var library = engine.NativeLibraryPath.Length > 0 ? NativeLibraryDirectory.Open(engine.NativeLibraryPath) : null;
        try
        {
            // llama.cpp's own log lines get a category of their own.
            var backend = NativeBackend.Initialize(engine.Backend, library, loggers.CreateLogger("llama.cpp"));
            logger.LogInformation("llama.cpp backend: requested {Requested}, loaded {Loaded}; GPU offload {Gpu}; devices: {Devices}",
                backend.Requested, backend.Loaded, backend.GpuOffload, string.Join(", ", backend.Devices));
            logger.LogInformation("llama.cpp system info: {SystemInfo}", backend.SystemInfo);
        }
        catch (Exception ex) when (library is not null)
        {
            // The library was asked for by name: serving without it would hide the mistake.
            throw new InvalidOperationException($"{NativeLibraryDirectory.Setting}: '{library.Directory}' could not be loaded: {ex.Message}", ex);
        }
        catch (Exception ex)
        {
            // Keep serving (health and model management work); readiness reports the failure.
            logger.LogError("The llama.cpp backend '{Backend}' could not be loaded: {Error}", engine.Backend, ex.Message);
        }

        logger.LogInformation("Models directory {Directory}; {Parallel} parallel sequences per model, queue {Queue}, keep-alive {KeepAlive}, {Threads} threads",
            store.Root, engine.NumParallel, engine.MaxQueue, engine.KeepAlive, engine.EffectiveThreads);

        // Before any route is open (hosted services start before Kestrel listens), so nothing being
        // written by this process can be mistaken for a leftover.
        if (engine.PruneOnStart)
        {
            var pruned = store.Prune();
            logger.LogInformation("Pruned the models directory: {Temporary} partial or temporary files and {Unreferenced} unreferenced blobs removed ({Bytes} bytes)",
                pruned.TemporaryFiles, pruned.UnreferencedBlobs, pruned.BytesFreed);
            if (pruned.BlobsKept)
                logger.LogWarning("Some manifest under {Directory} could not be read; no blob was pruned", store.ManifestsDirectory);
        }

        foreach (var (name, path) in models.Registrations)
        {
            var spec = new CreateSpec { Name = ModelName.Parse(name), FromFile = path };
            try
            {
                await importer.CreateAsync(spec, _ => { }, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Program reports it as one configuration line and exit code 2, like any bad setting.
                throw new InvalidOperationException($"--model {name}: {ex.Message}", ex);
            }
            logger.LogInformation("Registered model {Name} from {Path}", spec.Name.DisplayShortest(), spec.FromFile);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>The --model name=path pairs given on the command line.</summary>
public sealed record StartupModels(IReadOnlyList<(string Name, string Path)> Registrations);
