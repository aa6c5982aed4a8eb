using System.Threading.Channels;
using Inference.Engine.Generation;
using LLama;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Inference.Engine.Scheduling;

/// <summary>Settings of one model's embedding loop, fixed while the model is loaded.</summary>
public sealed record EmbeddingRunnerSettings
{
    /// <summary>Tokens one decode holds in all (the embedding context's size; one input never exceeds it).</summary>
    public int ContextLength { get; init; } = 2048;
    /// <summary>Inputs decoded together, each as its own sequence (the context's SeqMax).</summary>
    public int SequencesPerBatch { get; init; } = 16;
    /// <summary>Embedding requests waiting for the loop (OLLAMA_MAX_QUEUE, as for generations).</summary>
    public int MaxQueue { get; init; } = 512;
    /// <summary>
    /// Whether embedding decodes take turns with the generation loop's (<see cref="DecodeTurns"/>), sized by
    /// <see cref="EmbeddingPacer"/> while sequences generate. False runs them alongside, as before the
    /// runner existed (kept for the benchmark's comparison).
    /// </summary>
    public bool YieldToGeneration { get; init; } = true;
}

/// <summary>
/// One loop per loaded model that owns its embedding context (mean pooling), the counterpart of
/// <see cref="ModelRunner"/> for embeddings: requests wait in a bounded queue (awaiting a task, no
/// thread held per request), one dedicated thread packs the inputs of as many queued requests as
/// fit into one decode, each input its own sequence, and reads the pooled vector per sequence.
/// A request whose client left is dropped before any of its inputs is decoded. Its decodes take
/// turns with the generation loop's (<see cref="DecodeTurns"/>): while sequences generate, one
/// embedding decode, sized to last about one generation step (<see cref="EmbeddingPacer"/>), runs
/// between two steps, so running streams slow down by a bounded amount.
/// </summary>
public sealed class EmbeddingRunner : IDisposable
{
    private readonly LLamaContext _context;
    private readonly EmbeddingRunnerSettings _settings;
    private readonly Func<bool> _generating;
    private readonly ILogger _logger;
    private readonly Channel<EmbeddingJob> _pending;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _thread;
    /// <summary>The request whose inputs are being packed, and the index of its next input (loop thread only).</summary>
    private EmbeddingJob? _current;
    private int _next;
    private int _queued;
    private long _decodes;
    private long _cancelled;
    private readonly DecodeTurns _turns = new();
    private readonly EmbeddingPacer _pacer = new();

    /// <summary>
    /// Decodes one batch on the embedding context (a test seam, a plain function field: tests make it
    /// fail, throw or wait). A failure fails the requests whose inputs the batch holds, with an error;
    /// the context is cleared before every batch, so the next one starts clean.
    /// </summary>
    internal Func<SafeLLamaContextHandle, LLamaBatch, DecodeResult> DecodeBatch = (context, batch) => context.Decode(batch);

    /// <param name="context">An embedding context (Embeddings, mean pooling, SequencesPerBatch sequences); the runner owns it.</param>
    /// <param name="generating">Whether the model's generation loop has sequences running now (read before each decode).</param>
    public EmbeddingRunner(LLamaContext context, EmbeddingRunnerSettings settings, Func<bool> generating, ILogger logger)
    {
        _context = context;
        _settings = settings;
        _generating = generating;
        _logger = logger;
        _pending = Channel.CreateBounded<EmbeddingJob>(
            new BoundedChannelOptions(settings.MaxQueue) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _thread = new Thread(Loop) { IsBackground = true, Name = "embedding-runner" };
        _thread.Start();
    }

    public EmbeddingRunnerSettings Settings => _settings;
    /// <summary>Requests waiting for the loop (not yet started).</summary>
    public int QueuedRequests => Volatile.Read(ref _queued);
    /// <summary>Decodes run since the model was loaded (tests: a cancelled request adds none).</summary>
    public long Decodes => Interlocked.Read(ref _decodes);
    /// <summary>
    /// Runs one of the generation loop's decodes in its turn (see <see cref="DecodeTurns"/>) and learns its
    /// duration; the model's generation decode goes through here once this runner exists.
    /// </summary>
    public T GenerationDecode<T>(Func<T> decode)
    {
        if (!_settings.YieldToGeneration) return decode();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = _turns.Generation(decode);
        _pacer.ObserveGenerationStep(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return result;
    }

    /// <summary>Requests whose client left before their vectors were ready.</summary>
    public long CancelledRequests => Interlocked.Read(ref _cancelled);

    /// <summary>
    /// Queues the inputs (each at most ContextLength tokens) and returns their L2-normalized vectors, in order.
    /// Throws <see cref="QueueFullException"/> when MaxQueue requests wait already; the task is cancelled as
    /// soon as <paramref name="ct"/> is, and the loop then skips the request.
    /// </summary>
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<LLamaToken[]> inputs, int? dimensions, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (inputs.Count == 0) return Task.FromResult<IReadOnlyList<float[]>>([]);
        foreach (var input in inputs)
            if (input.Length == 0 || input.Length > _settings.ContextLength) throw new PromptTooLongException(input.Length, _settings.ContextLength);
        ct.ThrowIfCancellationRequested();
        var job = new EmbeddingJob(inputs, dimensions, ct, () => Interlocked.Increment(ref _cancelled));
        // Counted before it is written, so the loop's decrement never sees it first.
        Interlocked.Increment(ref _queued);
        if (_pending.Writer.TryWrite(job)) return job.Result;
        Interlocked.Decrement(ref _queued);
        job.Fail(new QueueFullException());
        throw new QueueFullException();
    }

    private void Loop()
    {
        var batch = new LLamaBatch();
        var parts = new List<(EmbeddingJob Job, int First, int Count)>();
        try
        {
            while (!_shutdown.IsCancellationRequested)
            {
                Pack(batch, parts);
                if (parts.Count == 0)
                {
                    WaitForWork();
                    continue;
                }
                Run(batch, parts);
            }
        }
        finally
        {
            var unloaded = new EmbeddingFailedException("the model was unloaded before its embeddings were computed");
            _current?.Fail(unloaded);
            while (_pending.Reader.TryRead(out var job)) job.Fail(unloaded);
        }
    }

    private void WaitForWork()
    {
        try
        {
            _pending.Reader.WaitToReadAsync(_shutdown.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Fills the batch with the next inputs in arrival order: up to SequencesPerBatch of them and
    /// ContextLength tokens in all. A request's inputs may span batches, and one batch may hold
    /// several requests' inputs. Requests cancelled before their turn are dropped here.
    /// </summary>
    private void Pack(LLamaBatch batch, List<(EmbeddingJob Job, int First, int Count)> parts)
    {
        batch.Clear();
        parts.Clear();
        int used = 0, sequences = 0;
        int budget = _settings.YieldToGeneration ? _pacer.TokenBudget(_generating(), _settings.ContextLength) : _settings.ContextLength;
        while (sequences < _settings.SequencesPerBatch)
        {
            if (_current is null || _next == _current.Inputs.Count || _current.Result.IsCompleted)
            {
                if (!_pending.Reader.TryRead(out _current))
                {
                    _current = null;
                    return;
                }
                Interlocked.Decrement(ref _queued);
                _next = 0;
                // Its client left while it waited (the task is already cancelled): none of it is decoded.
                if (_current.Result.IsCompleted) continue;
            }
            var tokens = _current.Inputs[_next];
            // One input always goes in (an input is never split: it is pooled whole).
            if (sequences > 0 && used + tokens.Length > budget) return;
            batch.AddRange(tokens, 0, (LLamaSeqId)sequences, true);
            if (parts.Count > 0 && parts[^1].Job == _current) parts[^1] = parts[^1] with { Count = parts[^1].Count + 1 };
            else parts.Add((_current, _next, 1));
            used += tokens.Length;
            sequences++;
            _next++;
        }
    }

    /// <summary>
    /// Decodes the packed batch and hands each request its vectors. A failed batch says nothing
    /// about whose input failed: with several requests in it, each request's part is decoded alone,
    /// so only the requests that fail by themselves get the error.
    /// </summary>
    private void Run(LLamaBatch batch, List<(EmbeddingJob Job, int First, int Count)> parts)
    {
        var failure = TryDecode(batch);
        if (failure is null)
        {
            int seq = 0;
            foreach (var (job, first, count) in parts)
            {
                for (int i = 0; i < count; i++, seq++)
                    job.Deliver(first + i, EmbeddingService.Normalize(_context.NativeHandle.GetEmbeddingsSeq((LLamaSeqId)seq).ToArray(), job.Dimensions));
            }
            return;
        }
        if (parts.Count == 1)
        {
            parts[0].Job.Fail(failure);
            return;
        }
        foreach (var (job, first, count) in parts.ToList())
        {
            batch.Clear();
            for (int i = 0; i < count; i++) batch.AddRange(job.Inputs[first + i], 0, (LLamaSeqId)i, true);
            parts.Clear();
            parts.Add((job, first, count));
            Run(batch, parts);
        }
    }

    /// <summary>Decodes in the embedding loop's turn; null when it worked, else the error for the requests in it.</summary>
    private Exception? TryDecode(LLamaBatch batch)
    {
        _context.NativeHandle.MemoryClear();
        Interlocked.Increment(ref _decodes);
        try
        {
            var decode = DecodeBatch;
            var result = _settings.YieldToGeneration ? _turns.Embedding(() => Timed(decode, batch)) : decode(_context.NativeHandle, batch);
            return result == DecodeResult.Ok ? null : new EmbeddingFailedException($"embedding decode failed: {result}");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogWarning(ex, "An embedding decode threw; the requests in its batch fail");
            return ex;
        }
    }

    private DecodeResult Timed(Func<SafeLLamaContextHandle, LLamaBatch, DecodeResult> decode, LLamaBatch batch)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = decode(_context.NativeHandle, batch);
        if (result == DecodeResult.Ok) _pacer.ObserveEmbedding(batch.TokenCount, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return result;
    }

    public void Dispose()
    {
        if (_shutdown.IsCancellationRequested) return;
        _shutdown.Cancel();
        _pending.Writer.TryComplete();
        _thread.Join();
        _context.Dispose();
        _shutdown.Dispose();
    }

    /// <summary>One embedding request: its inputs, and the vectors delivered so far.</summary>
    private sealed class EmbeddingJob
    {
        private readonly TaskCompletionSource<IReadOnlyList<float[]>> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly float[][] _vectors;
        private readonly CancellationTokenRegistration _cancel;
        private int _missing;

        public EmbeddingJob(IReadOnlyList<LLamaToken[]> inputs, int? dimensions, CancellationToken ct, Action onCancelled)
        {
            Inputs = inputs;
            Dimensions = dimensions;
            _vectors = new float[inputs.Count][];
            _missing = inputs.Count;
            // The caller is released at once when its client leaves; the loop sees the completed task and skips the rest.
            _cancel = ct.Register(() =>
            {
                if (_result.TrySetCanceled(ct)) onCancelled();
            });
        }

        public IReadOnlyList<LLamaToken[]> Inputs { get; }
        public int? Dimensions { get; }
        public Task<IReadOnlyList<float[]>> Result => _result.Task;

        public void Deliver(int index, float[] vector)
        {
            _vectors[index] = vector;
            if (--_missing == 0 && _result.TrySetResult(_vectors)) _cancel.Dispose();
        }

        public void Fail(Exception error)
        {
            if (_result.TrySetException(error)) _cancel.Dispose();
        }
    }
}
