using System.Diagnostics;
using Inference.Engine.Backend;
using Inference.Engine.Scheduling;
using LLama;
using LLama.Common;
using Microsoft.Extensions.Logging;

namespace Inference.Engine.Models;

/// <summary>
/// Decides which models are in memory (Ollama's sched.go): loads on demand, shares a loaded model
/// between requests, reloads when load settings change, and unloads after keep_alive.
/// </summary>
public sealed class ModelManager : IAsyncDisposable
{
    private readonly EngineOptions _options;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly Dictionary<string, LoadedModel> _loaded = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SchedulerStats> _stats = new(StringComparer.OrdinalIgnoreCase);
    private readonly ISchedulerObserver? _observer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _expiryLoop;
    // Keep-alive and expiry read this clock, never the wall clock, so tests run them in fake time.
    private readonly TimeProvider _time;

    public ModelManager(EngineOptions options, ILoggerFactory loggerFactory, ISchedulerObserver? observer = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _observer = observer;
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ModelManager>();
        _expiryLoop = Task.Run(ExpireLoopAsync);
    }

    public EngineOptions Options => _options;

    /// <summary>Models in service: not being unloaded, and with a scheduler loop that still runs.</summary>
    public IReadOnlyList<LoadedModel> Loaded
    {
        get { lock (_gate) return _loaded.Values.Where(m => !m.Draining && m.Runner.IsRunning).ToList(); }
    }

    /// <summary>
    /// Memory llama.cpp can allocate on this machine: a context whose buffers need more fails to
    /// allocate, and llama.cpp does not survive that, so such a context is refused before it is
    /// created even without a memory budget. A field so tests can stand in a smaller machine.
    /// </summary>
    internal long HostMemoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Scheduler counters of every model loaded since start-up (they survive unloads).</summary>
    public IReadOnlyList<SchedulerStats> AllStats
    {
        get { lock (_gate) return _stats.Values.ToList(); }
    }

    private SchedulerStats StatsFor(ModelDefinition model)
    {
        lock (_gate)
        {
            if (!_stats.TryGetValue(model.DisplayName, out var stats))
                _stats[model.DisplayName] = stats = new SchedulerStats(model.DisplayName, _observer);
            return stats;
        }
    }

    /// <summary>What a model's options may ask for on this server (see <see cref="ModelOptions.Validate"/>).</summary>
    public OptionLimits LimitsFor(ModelDefinition model)
    {
        int max = OptionLimits.ContextLimitOf(model.Gguf);
        return new OptionLimits(max, Math.Min(_options.DefaultContextLength, max), _options.EffectiveThreads);
    }

    /// <summary>
    /// The load settings for a request's options over the model's parameters, with the engine's
    /// defaults filled in. Every route that runs a model comes through here, so this is where
    /// options are held to the model's and the server's limits: an option outside them throws
    /// <see cref="InvalidOptionException"/> (a 400) before anything is loaded.
    /// </summary>
    public LoadSettings SettingsFor(ModelDefinition model, ModelOptions requested)
    {
        var limits = LimitsFor(model);
        var options = requested.Over(model.Parameters);
        // The request's repeat_last_n is held to the num_ctx in effect, which may be the model's parameter.
        var requestLimits = options.NumCtx is { } inEffect && inEffect >= OptionLimits.MinContextLength && inEffect <= limits.MaxContextLength
            ? limits with { DefaultContextLength = inEffect }
            : limits;
        if (requested.Validate(requestLimits) is { } problem) throw new InvalidOptionException(problem.Message);
        if (options.Validate(limits) is { } fromModel)
            throw new InvalidOptionException(
                $"the model's parameter {fromModel.Field} {fromModel.Problem}; set options.{fromModel.Field} in the request, or re-create the model");

        var backend = NativeBackend.State.Info;
        int gpuLayers = backend is { GpuOffload: true } ? options.NumGpu ?? _options.DefaultGpuLayers : 0;
        // More layers than the model has (plus its output layer) means all of them: one setting, not a reload per number.
        int layers = (int)Math.Clamp(model.Gguf.GetInt($"{model.Gguf.Architecture}.block_count") ?? 0, 0, int.MaxValue - 1);
        if (layers > 0 && gpuLayers > layers + 1) gpuLayers = -1;
        int ctx = options.NumCtx ?? limits.DefaultContextLength;
        return new LoadSettings(ctx, gpuLayers, options.NumThread is > 0 ? options.NumThread.Value : _options.EffectiveThreads);
    }

    public async Task<ModelLease> AcquireAsync(ModelDefinition model, LoadSettings settings, CancellationToken ct)
    {
        while (true)
        {
            LoadedModel? stale = null;
            lock (_gate)
            {
                if (_loaded.TryGetValue(model.Key, out var current))
                {
                    // A runner whose loop died is replaced: this request reloads the model.
                    if (!current.Draining && current.Runner.IsRunning && current.Settings == settings && SameFile(current, model))
                    {
                        if (current.References++ == 0) current.Idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
                        current.LastUsed = _time.GetUtcNow();
                        return new ModelLease(this, current, TimeSpan.Zero);
                    }
                    current.Draining = true;
                    stale = current;
                }
            }

            if (stale is not null)
            {
                // Another request still uses the old settings or file: wait for it, then unload.
                await WaitIdleAsync(stale, ct);
                await UnloadAsync(stale);
                continue;
            }

            await _loading.WaitAsync(ct);
            bool handedOver = false;
            try
            {
                lock (_gate)
                {
                    if (_loaded.ContainsKey(model.Key)) continue; // someone else loaded it meanwhile
                }
                MakeRoomFor(model, settings);
                var loaded = await LoadWithinTimeoutAsync(model, settings, ct);
                if (loaded is null)
                {
                    handedOver = true;
                    throw new ModelLoadException($"timed out loading model '{model.DisplayName}': it took longer than {_options.LoadTimeout} " +
                        "(OLLAMA_LOAD_TIMEOUT / Inference:LoadTimeout)");
                }
                lock (_gate)
                {
                    loaded.References = 1;
                    _loaded[model.Key] = loaded;
                }
                return new ModelLease(this, loaded, loaded.LoadDuration);
            }
            finally
            {
                if (!handedOver) _loading.Release();
            }
        }
    }

    /// <summary>
    /// A hold on the model only if it is loaded now (never loads it), for probes; release it with
    /// <see cref="RemainingKeepAlive"/> so the probe leaves the model's expiry as it was.
    /// </summary>
    public ModelLease? TryAcquireLoaded(string key)
    {
        lock (_gate)
        {
            if (!_loaded.TryGetValue(key, out var current) || current.Draining || !current.Runner.IsRunning) return null;
            if (current.References++ == 0) current.Idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return new ModelLease(this, current, TimeSpan.Zero);
        }
    }

    /// <summary>The keep_alive that leaves a model's expiry unchanged (negative when it is kept forever).</summary>
    public static TimeSpan RemainingKeepAlive(LoadedModel model) =>
        model.Forever ? TimeSpan.FromSeconds(-1) : TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (model.ExpiresAt - model.Time.GetUtcNow()).Ticks));

    /// <summary>The GGUF's tensor bytes plus one KV stream (of the KV cache type in use) per sequence id (the running ones and the cached prefixes).</summary>
    public long EstimateBytes(ModelDefinition model, LoadSettings settings) =>
        MemoryEstimate.Add(MemoryEstimate.Add(model.Gguf.Tensors.Select(t => t.ByteSize).ToArray()),
            MemoryEstimate.Add(model.Adapters.Select(a => a.TensorBytes).ToArray()), KvBytes(model, settings));

    /// <summary>The generation context's KV cache: Streams x num_ctx cells of the resolved cache type.</summary>
    private long KvBytes(ModelDefinition model, LoadSettings settings) =>
        MemoryEstimate.KvCacheBytes(model.Gguf, Streams * settings.ContextLength, (uint)KvCacheSettings.Resolve(_options, model.Gguf).CacheType);

    private int Streams => _options.NumParallel + _options.PrefixCacheSequences;

    /// <summary>What llama.cpp allocates for the generation context: the KV cache and the compute buffer of a step.</summary>
    private long ContextBuffers(ModelDefinition model, LoadSettings settings) => MemoryEstimate.Add(
        KvBytes(model, settings),
        MemoryEstimate.ComputeBytes(model.Gguf, settings.ContextLength, _options.StepTokenBudget, logits: true));

    /// <summary>
    /// What llama.cpp allocates for a model's embedding context: one KV stream of num_ctx cells, and a
    /// compute buffer for a micro-batch of num_ctx tokens (pooled embeddings need each input whole in one).
    /// </summary>
    public long EmbeddingContextBytes(ModelDefinition model, LoadSettings settings) => MemoryEstimate.Add(
        MemoryEstimate.KvCacheBytes(model.Gguf, settings.ContextLength),
        MemoryEstimate.ComputeBytes(model.Gguf, settings.ContextLength, settings.ContextLength, logits: false));

    /// <summary>
    /// Makes room for a model's embedding context before it is created (like a load: idle models are
    /// unloaded to stay within the budget), or refuses it with 507 when it can never fit the budget or
    /// the machine. The embedding context then counts in the model's size.
    /// </summary>
    public async Task ReserveEmbeddingContextAsync(ModelLease lease, CancellationToken ct)
    {
        var loaded = lease.Model;
        if (loaded.EmbeddingReserved) return;
        long bytes = EmbeddingContextBytes(loaded.Definition, loaded.Settings);
        await _loading.WaitAsync(ct);
        try
        {
            if (loaded.EmbeddingReserved) return;
            CheckHostMemory(loaded.Definition, loaded.Settings, bytes, "its embedding context");
            MakeRoom(loaded.Definition, bytes, $"an embedding context for num_ctx {loaded.Settings.ContextLength}", loaded);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Without GPU offload, context buffers live in host memory: more than the machine has can never be allocated.</summary>
    private void CheckHostMemory(ModelDefinition model, LoadSettings settings, long buffers, string what)
    {
        if (settings.GpuLayers != 0 || HostMemoryBytes <= 0 || buffers <= HostMemoryBytes) return;
        throw new ModelCapacityException(
            $"model '{model.DisplayName}' needs about {Mib(buffers)} MiB for {what} (num_ctx {settings.ContextLength}) " +
            $"but this machine has {Mib(HostMemoryBytes)} MiB of memory; use a smaller num_ctx", insufficientMemory: true);
    }

    /// <summary>
    /// Keeps OLLAMA_MAX_LOADED_MODELS and the memory budget: unloads idle models, least recently
    /// used first, until the new one fits; refuses (instead of letting the OS kill the process)
    /// when it never can, or when every loaded model is busy. Caller holds the loading lock.
    /// </summary>
    private void MakeRoomFor(ModelDefinition model, LoadSettings settings)
    {
        CheckHostMemory(model, settings, ContextBuffers(model, settings), "its context buffers");
        long needed = EstimateBytes(model, settings);
        long budget = _options.MemoryBudgetBytes;
        if (budget > 0 && needed > budget)
            throw new ModelCapacityException(
                $"model '{model.DisplayName}' needs about {Mib(needed)} MiB (weights and KV cache for num_ctx {settings.ContextLength}) " +
                $"but the memory budget (Inference:MemoryBudgetBytes) is {Mib(budget)} MiB", insufficientMemory: true);
        MakeRoom(model, needed, "it", owner: null);
    }

    /// <summary>
    /// Unloads idle models (least recently used first, never <paramref name="owner"/>) until
    /// <paramref name="needed"/> more bytes fit the budget and the model count; refuses when it
    /// never can, or when every loaded model is busy. Caller holds the loading lock.
    /// </summary>
    private void MakeRoom(ModelDefinition model, long needed, string what, LoadedModel? owner)
    {
        long budget = _options.MemoryBudgetBytes;
        if (owner is not null && budget > 0 && MemoryEstimate.Add(owner.SizeBytes, needed) > budget)
            throw new ModelCapacityException(
                $"model '{model.DisplayName}' needs about {Mib(needed)} MiB more for {what} (it has {Mib(owner.SizeBytes)} MiB) " +
                $"but the memory budget (Inference:MemoryBudgetBytes) is {Mib(budget)} MiB", insufficientMemory: true);
        while (true)
        {
            LoadedModel? victim;
            string? reason;
            lock (_gate)
            {
                long used = MemoryEstimate.Add(_loaded.Values.Select(m => m.SizeBytes).ToArray());
                reason = owner is null && _options.MaxLoadedModels > 0 && _loaded.Count >= _options.MaxLoadedModels
                    ? $"{_loaded.Count} models are loaded (OLLAMA_MAX_LOADED_MODELS={_options.MaxLoadedModels})"
                    : budget > 0 && MemoryEstimate.Add(used, needed) > budget
                        ? $"{Mib(used)} MiB of the {Mib(budget)} MiB memory budget is in use and {what} needs {Mib(needed)} MiB"
                        : null;
                if (reason is null)
                {
                    if (owner is not null)
                    {
                        owner.SizeBytes = MemoryEstimate.Add(owner.SizeBytes, needed);
                        owner.EmbeddingReserved = true;
                    }
                    return;
                }
                victim = _loaded.Values.Where(m => m.References == 0 && m != owner).MinBy(m => m.LastUsed);
                if (victim is not null) _loaded.Remove(victim.Definition.Key);
            }
            if (victim is null)
                throw new ModelCapacityException(owner is null
                    ? $"cannot load model '{model.DisplayName}': {reason} and all of them are in use; try again later"
                    : $"cannot make room for {what} of model '{model.DisplayName}': {reason} and all other models are in use; try again later");
            _logger.LogInformation("Unloading idle model {Model} to make room for {New}: {Reason}", victim.Definition.DisplayName, model.DisplayName, reason);
            victim.Dispose();
        }
    }

    private static long Mib(long bytes) => bytes / (1024 * 1024);

    /// <summary>The same weights with the same adapters: a name re-created with other adapters is reloaded.</summary>
    private static bool SameFile(LoadedModel loaded, ModelDefinition model) =>
        loaded.Definition.ModelPath == model.ModelPath &&
        loaded.Definition.Adapters.Select(a => a.Path).SequenceEqual(model.Adapters.Select(a => a.Path));

    private Task WaitIdleAsync(LoadedModel model, CancellationToken ct)
    {
        Task idle;
        lock (_gate) idle = model.References == 0 ? Task.CompletedTask : model.Idle.Task;
        return idle.WaitAsync(ct);
    }

    /// <summary>
    /// Loads on a worker thread, waiting at most <see cref="EngineOptions.LoadTimeout"/> (OLLAMA_LOAD_TIMEOUT);
    /// null when it took longer. Such a load cannot be stopped inside llama.cpp: it is left to finish, then
    /// freed, and the loading slot the caller holds is handed over to it and released only then, so loads
    /// never overlap in memory.
    /// </summary>
    private async Task<LoadedModel?> LoadWithinTimeoutAsync(ModelDefinition model, LoadSettings settings, CancellationToken ct)
    {
        var loading = Task.Run(() => Load(model, settings), ct);
        var timeout = _options.LoadTimeout;
        // Zero or negative: no limit (as Ollama); beyond what a timer takes, no limit either.
        if (timeout <= TimeSpan.Zero || timeout.TotalMilliseconds >= int.MaxValue) return await loading;
        try
        {
            return await loading.WaitAsync(timeout, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("Loading model {Model} took longer than {Timeout}; the request fails and the model is freed once loaded",
                model.DisplayName, timeout);
            _ = loading.ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully) t.Result.Dispose();
                else _ = t.Exception; // observed: the request already failed with the timeout
                _loading.Release();
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return null;
        }
    }

    private LoadedModel Load(ModelDefinition model, LoadSettings settings)
    {
        var started = Stopwatch.GetTimestamp();
        var parameters = new ModelParams(model.ModelPath)
        {
            ContextSize = (uint)settings.ContextLength,
            GpuLayerCount = settings.GpuLayers,
            MainGpu = _options.MainGpu,
            Threads = settings.Threads,
        };
        var split = _options.TensorSplitProportions;
        for (int i = 0; i < split.Length && i < parameters.TensorSplits.Length; i++) parameters.TensorSplits[i] = split[i];
        LLamaWeights weights;
        try
        {
            weights = LLamaWeights.LoadFromFile(parameters);
        }
        catch (Exception ex)
        {
            throw new ModelLoadException($"failed to load model '{model.DisplayName}': {ex.Message}", ex);
        }

        IReadOnlyList<LLama.Native.LoraAdapter> adapters;
        try
        {
            adapters = LoraAdapters.Load(weights.NativeHandle, model.Adapters.Select(a => a.Path).ToList());
        }
        catch (Exception ex)
        {
            weights.Dispose();
            throw new ModelLoadException($"failed to load the adapters of model '{model.DisplayName}': {ex.Message}", ex);
        }

        var kv = KvCacheSettings.Resolve(_options, model.Gguf);
        if (kv.Warning is not null) _logger.LogWarning("Model {Model}: {Warning}", model.DisplayName, kv.Warning);
        ModelRunner runner;
        try
        {
            runner = new ModelRunner(weights, new RunnerSettings
            {
                FlashAttention = kv.FlashAttention,
                KvCacheType = kv.CacheType,
                ContextLength = settings.ContextLength,
                Parallel = _options.NumParallel,
                MaxQueue = _options.MaxQueue,
                StepTokenBudget = _options.StepTokenBudget,
                CachedSequences = _options.PrefixCacheSequences,
                PrefillLatencyFactor = _options.PrefillLatencyFactor,
                BatchInvariant = _options.BatchInvariant,
                DraftTokens = _options.DraftTokens,
                Threads = settings.Threads,
                LoraAdapters = adapters,
            }, StatsFor(model), _loggerFactory.CreateLogger<ModelRunner>());
        }
        catch (Exception ex)
        {
            weights.Dispose();
            throw new ModelLoadException($"failed to create a context for model '{model.DisplayName}': {ex.Message}", ex);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        long size = EstimateBytes(model, settings);
        int layers = (int)(model.Gguf.GetInt($"{model.Gguf.Architecture}.block_count") ?? 0);
        long vram = settings.GpuLayers switch
        {
            0 => 0,
            < 0 => size,
            var n when layers > 0 => size * Math.Min(n, layers) / layers,
            _ => 0,
        };
        var backend = NativeBackend.State.Info;
        _logger.LogInformation(
            "Loaded model {Model} ({Family} {Parameters} {Quantization}) in {LoadMs:F0} ms on {Backend}: " +
            "context {Context} x {Parallel} sequences, {Threads} threads, {GpuLayers} GPU layers, ~{SizeMiB:F1} MiB " +
            "(KV cache {KvCacheType} {KvMiB:F1} MiB, flash attention {FlashAttention})",
            model.DisplayName, model.Gguf.Architecture, Gguf.GgufNames.FormatParameterSize(model.Gguf.ParameterCount),
            Gguf.GgufNames.QuantizationLevel(model.Gguf), elapsed.TotalMilliseconds,
            backend?.GpuOffload == true && settings.GpuLayers != 0 ? "cuda" : "cpu",
            settings.ContextLength, _options.NumParallel, settings.Threads, settings.GpuLayers, size / 1048576.0,
            kv.CacheTypeName, KvBytes(model, settings) / 1048576.0, kv.FlashAttentionName);
        if (adapters.Count > 0) _logger.LogInformation("Model {Model} applies {Adapters} LoRA adapter(s) at scale {Scale}", model.DisplayName, adapters.Count, LoraAdapters.Scale);
        return new LoadedModel(model, settings, weights, runner, size, vram, elapsed, _time) { Adapters = adapters };
    }

    internal async Task ReleaseAsync(LoadedModel model, TimeSpan keepAlive)
    {
        bool unloadNow;
        lock (_gate)
        {
            model.References--;
            var now = _time.GetUtcNow();
            model.LastUsed = now;
            // A keep-alive that ends after the last date a clock can hold is forever (and must not overflow here,
            // which would leave the model held and every later unload waiting for it).
            model.Forever = keepAlive < TimeSpan.Zero || keepAlive > DateTimeOffset.MaxValue - now;
            model.ExpiresAt = model.Forever ? now : now + keepAlive;
            unloadNow = model.References == 0 && (keepAlive == TimeSpan.Zero || model.Draining);
            if (model.References == 0) model.Idle.TrySetResult();
        }
        if (unloadNow) await UnloadAsync(model);
    }

    /// <summary>Unloads a model by key once nothing uses it (keep_alive: 0 with an empty request).</summary>
    public async Task<bool> UnloadAsync(string key)
    {
        LoadedModel? model;
        lock (_gate)
        {
            if (!_loaded.TryGetValue(key, out model)) return false;
            model.Draining = true;
        }
        await WaitIdleAsync(model, CancellationToken.None);
        await UnloadAsync(model);
        return true;
    }

    private async Task UnloadAsync(LoadedModel model)
    {
        await _loading.WaitAsync();
        try
        {
            lock (_gate)
            {
                if (!_loaded.TryGetValue(model.Definition.Key, out var current) || current != model) return;
                _loaded.Remove(model.Definition.Key);
            }
            model.Dispose();
            _logger.LogInformation("Unloaded model {Model}", model.Definition.DisplayName);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Passes the expiry loop has finished: tests in fake time wait for one after moving the clock.</summary>
    internal long ExpiryPasses;

    private async Task ExpireLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                List<LoadedModel> expired;
                lock (_gate)
                {
                    var now = _time.GetUtcNow();
                    // A model whose scheduler loop died is unloaded as soon as nothing holds it.
                    expired = _loaded.Values.Where(m => m.References == 0 && (!m.Runner.IsRunning || !m.Forever && m.ExpiresAt <= now)).ToList();
                }
                foreach (var model in expired) await UnloadAsync(model);
                Interlocked.Increment(ref ExpiryPasses);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Unloads every model now; running generations end with done_reason "unload".</summary>
    public async Task UnloadAllAsync()
    {
        List<LoadedModel> all;
        lock (_gate) all = _loaded.Values.ToList();
        foreach (var model in all) await UnloadAsync(model);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _expiryLoop;
        List<LoadedModel> all;
        lock (_gate)
        {
            all = _loaded.Values.ToList();
            _loaded.Clear();
        }
        foreach (var model in all) model.Dispose();
    }
}
