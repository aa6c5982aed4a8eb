using Inference.Engine.Scheduling;
using LLama;

namespace Inference.Engine.Models;

/// <summary>Settings that need a reload when they change (Ollama reloads a model for a new num_ctx too).</summary>
public sealed record LoadSettings(int ContextLength, int GpuLayers, int Threads);

/// <summary>A model in memory with its scheduler loop. Owned by <see cref="ModelManager"/>.</summary>
public sealed class LoadedModel : IDisposable
{
    internal LoadedModel(ModelDefinition definition, LoadSettings settings, LLamaWeights weights, ModelRunner runner,
        long sizeBytes, long sizeVram, TimeSpan loadDuration, TimeProvider time)
    {
        Time = time;
        LastUsed = time.GetUtcNow();
        Definition = definition;
        Settings = settings;
        Weights = weights;
        Runner = runner;
        SizeBytes = sizeBytes;
        SizeVram = sizeVram;
        LoadDuration = loadDuration;
    }

    public ModelDefinition Definition { get; }
    public LoadSettings Settings { get; }
    public LLamaWeights Weights { get; }
    /// <summary>The LoRA adapters loaded onto <see cref="Weights"/>; every context made from them sets these.</summary>
    public IReadOnlyList<LLama.Native.LoraAdapter> Adapters { get; init; } = [];
    public ModelRunner Runner { get; }
    /// <summary>Weights plus the KV cache for the configured context and parallelism, plus the embedding context once reserved.</summary>
    public long SizeBytes { get; internal set; }
    public long SizeVram { get; }
    public TimeSpan LoadDuration { get; }

    // Guarded by the manager's lock.
    internal int References;
    internal DateTimeOffset ExpiresAt;
    internal bool Forever;
    internal bool Draining;
    internal DateTimeOffset LastUsed;
    /// <summary>The manager's clock, which <see cref="ExpiresAt"/> and <see cref="LastUsed"/> are read against.</summary>
    internal TimeProvider Time { get; }
    internal TaskCompletionSource Idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Room for the embedding context was made and counted in <see cref="SizeBytes"/> (set under the manager's loading lock).</summary>
    internal volatile bool EmbeddingReserved;

    public DateTimeOffset ExpiresAtUtc => Forever ? DateTimeOffset.MaxValue : ExpiresAt;

    private EmbeddingRunner? _embeddings;

    /// <summary>The embedding loop (with its context), created on first use and released with the model.</summary>
    public EmbeddingRunner Embeddings(Func<EmbeddingRunner> create)
    {
        lock (this) return _embeddings ??= create();
    }

    public void Dispose()
    {
        Runner.Dispose();
        lock (this) _embeddings?.Dispose();
        Weights.Dispose();
    }
}

/// <summary>A request's hold on a loaded model; the model is not unloaded while any lease is open.</summary>
public sealed class ModelLease
{
    private readonly ModelManager _manager;
    private int _released;

    internal ModelLease(ModelManager manager, LoadedModel model, TimeSpan loadDuration)
    {
        _manager = manager;
        Model = model;
        LoadDuration = loadDuration;
    }

    public LoadedModel Model { get; }
    public ModelRunner Runner => Model.Runner;

    /// <summary>Time this request spent loading the model (zero when it was already loaded).</summary>
    public TimeSpan LoadDuration { get; }

    /// <summary>Ends the hold; the model then stays loaded for keepAlive (zero unloads now, negative keeps it).</summary>
    public Task ReleaseAsync(TimeSpan keepAlive)
    {
        if (Interlocked.Exchange(ref _released, 1) == 1) return Task.CompletedTask;
        return _manager.ReleaseAsync(Model, keepAlive);
    }
}

/// <summary>
/// A model that cannot be loaded now: the loaded-model limit or memory budget is reached and every
/// loaded model is busy (try again), or it could never fit the budget (InsufficientMemory).
/// </summary>
public sealed class ModelCapacityException(string message, bool insufficientMemory = false) : Exception(message)
{
    public bool InsufficientMemory { get; } = insufficientMemory;
}

/// <summary>A model file that llama.cpp could not load; the store is left untouched.</summary>
public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A request's option (or a model's parameter) outside what the model and server can serve; nothing was loaded.</summary>
public sealed class InvalidOptionException(string message) : Exception(message);
