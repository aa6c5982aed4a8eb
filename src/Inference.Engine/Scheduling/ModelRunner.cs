using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Inference.Engine.Generation;
using Inference.Engine.Grammar.Completion;
using LLama;
using LLama.Common;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Inference.Engine.Scheduling;

/// <summary>Settings of one model's scheduler loop, fixed while the model is loaded.</summary>
public sealed record RunnerSettings
{
    /// <summary>Context window of one sequence (Ollama's num_ctx).</summary>
    public int ContextLength { get; init; } = 2048;
    /// <summary>Sequences decoded together (OLLAMA_NUM_PARALLEL).</summary>
    public int Parallel { get; init; } = 4;
    /// <summary>Requests waiting for a free sequence (OLLAMA_MAX_QUEUE).</summary>
    public int MaxQueue { get; init; } = 512;
    /// <summary>Tokens decoded per step at most; long prompts are prefilled in chunks of what is left.</summary>
    public int StepTokenBudget { get; init; } = 512;
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>
    /// KV streams beyond Parallel, so that at least this many finished sequences keep their cells for prefix
    /// reuse while all Parallel sequences run (fewer running leave more); 0 turns the prefix cache off.
    /// </summary>
    public int CachedSequences { get; init; } = 4;
    /// <summary>While streams generate, prompt chunks keep a step within this multiple of a decode-only step; &lt;= 1 disables pacing.</summary>
    public double PrefillLatencyFactor { get; init; } = 1.5;
    /// <summary>Flash attention on/off; null lets llama.cpp decide (Inference:FlashAttention, resolved by KvCacheSettings).</summary>
    public bool? FlashAttention { get; init; }
    /// <summary>Element type of the K and V cache (Inference:KvCacheType); quantized types come with flash attention on.</summary>
    public GGMLType KvCacheType { get; init; } = GGMLType.GGML_TYPE_F16;
    /// <summary>Pads every sequence's part of a step to a multiple of four tokens, so its output is the same whatever runs beside it (<see cref="StepPadding"/>).</summary>
    public bool BatchInvariant { get; init; }
    /// <summary>LoRA adapters loaded onto the weights, set on the context (so on every sequence it decodes).</summary>
    public IReadOnlyList<LoraAdapter> LoraAdapters { get; init; } = [];
    /// <summary>N-gram draft tokens a sequence decoding alone verifies per step at most (<see cref="DraftVerification"/>); 0 = no drafting.</summary>
    public int DraftTokens { get; init; }
    /// <summary>
    /// How long an idle runner's first step of new prompts waits for no further request to come, at most (a burst of
    /// clients: see ModelRunner.GatherBurst); zero = it never waits. Not a server setting: tests lengthen it.
    /// </summary>
    public TimeSpan BurstQuietPeriod { get; init; } = TimeSpan.FromMilliseconds(2);
}

/// <summary>
/// One loop per loaded model that owns its llama context. Requests are queued; every step puts
/// the next token of each generating sequence and a chunk of each prefilling prompt into one
/// batch, decodes it once, then samples per sequence. Nothing else touches the context.
/// Requests admitted together with the same prompt (n samples of one completion, clients sharing
/// a system prompt) evaluate it once: the first prefills it, the others wait and then fork its
/// KV cells, evaluating only their last prompt token.
/// </summary>
public sealed class ModelRunner : IDisposable
{
    private readonly LLamaContext _context;
    private readonly RunnerSettings _settings;
    private readonly ILogger _logger;
    private readonly Channel<PendingRequest> _pending;
    /// <summary>
    /// Requests taken from the queue that wait for a running prompt they share to be evaluated
    /// (see <see cref="PromptSharing"/>), oldest first. Each one holds a place among the
    /// Parallel sequences, so later requests never overtake them.
    /// </summary>
    private readonly List<PendingRequest> _deferred = [];
    /// <summary>Running sequences, kept sorted by sequence id (see <see cref="SequenceIds.Choose"/>).</summary>
    private readonly List<SequenceSlot> _active = [];
    /// <summary>What each of the Parallel + CachedSequences ids (KV streams) holds.</summary>
    private readonly SequenceIds _ids;
    private readonly PrefixCache _cache;
    private readonly PrefillPacer _pacer;
    private readonly CancellationTokenSource _shutdown = new();
    /// <summary>Set whenever a request is queued; <see cref="GatherBurst"/> waits on it. One spin: spinning would take a core from the server's request threads.</summary>
    private readonly ManualResetEventSlim _submitted = new(false, spinCount: 1);
    private readonly Thread _thread;
    /// <summary>The slots whose tokens are in the current step's batch, in sequence-id order.</summary>
    private readonly List<SequenceSlot> _stepping = [];
    /// <summary>The requests of the slots being decoded, handed to <see cref="DecodeStep"/>.</summary>
    private readonly List<GenerationRequest> _stepRequests = [];
    private int _queued;
    /// <summary>Set when the loop died of an error: no request is taken any more and the manager reloads the model.</summary>
    private volatile bool _faulted;
    private TokenizerBound? _textBound;
    /// <summary>Speculative decoding of a sequence that runs alone; null when <see cref="RunnerSettings.DraftTokens"/> is 0.</summary>
    private readonly DraftVerification? _drafts;

    /// <summary>
    /// Decodes one batch for the requests whose tokens it holds (a test seam, a plain function field
    /// like Ollama's loadFn: tests make the decode fail for one request, or throw to end the loop).
    /// A result other than Ok fails only the sequences that also fail when decoded alone; an
    /// exception means the context can no longer be trusted, and ends the loop.
    /// </summary>
    internal Func<LLamaBatch, IReadOnlyList<GenerationRequest>, DecodeResult> DecodeStep;

    /// <summary>
    /// The model's embedding loop, once one exists (set by EmbeddingService): every generation decode then
    /// takes its turn with the embedding decodes (<see cref="DecodeTurns"/>, generation first), since both
    /// would otherwise spin their thread pools on the same cores.
    /// </summary>
    public EmbeddingRunner? EmbeddingNeighbor { get; set; }

    public ModelRunner(LLamaWeights weights, RunnerSettings settings, SchedulerStats stats, ILogger logger)
    {
        Stats = stats;
        // The stats outlive reloads: a new runner starts with its own, empty cells.
        Stats.KvCellsTotal = (long)settings.ContextLength * (settings.Parallel + settings.CachedSequences);
        Stats.KvCellsUsed = 0;
        _settings = settings;
        _logger = logger;
        var contextParams = new ModelParams(string.Empty)
        {
            // One KV stream of ContextLength cells per sequence id (active ones plus cached prefixes).
            // Separate streams keep each sequence's cells in position order whatever else runs, so a
            // sequence's attention sums in the same order batched or alone (a shared, unified pool
            // interleaves cells and changes the sums). Outputs can still differ from a solo run: a row
            // alone in a micro-batch takes ggml's matrix-vector path; BatchInvariant pads that away (StepPadding).
            ContextSize = (uint)(settings.ContextLength * (settings.Parallel + settings.CachedSequences)),
            SeqMax = (uint)(settings.Parallel + settings.CachedSequences),
            KVUnified = false,
            BatchSize = (uint)settings.StepTokenBudget,
            UBatchSize = (uint)settings.StepTokenBudget,
            Threads = settings.Threads,
            BatchThreads = settings.Threads,
            FlashAttention = settings.FlashAttention,
            TypeK = settings.KvCacheType,
            TypeV = settings.KvCacheType,
        };
        _context = weights.CreateContext(contextParams);
        Backend.LoraAdapters.Apply(_context.NativeHandle, settings.LoraAdapters);
        var decoder = new Backend.BatchDecoder();
        DecodeStep = (batch, _) => decoder.Decode(_context.NativeHandle, batch);
        if (settings.DraftTokens > 0) _drafts = new DraftVerification(_context.NativeHandle, settings.DraftTokens, Stats, SampleNext);
        _cache = new PrefixCache(settings.CachedSequences);
        _pacer = new PrefillPacer(settings.PrefillLatencyFactor);
        _ids = new SequenceIds(settings.Parallel + settings.CachedSequences);
        _pending = Channel.CreateBounded<PendingRequest>(
            new BoundedChannelOptions(settings.MaxQueue) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _thread = new Thread(Loop) { IsBackground = true, Name = "model-runner" };
        _thread.Start();
    }

    public RunnerSettings Settings => _settings;
    /// <summary>Whether the scheduler loop still takes requests (it stops only at unload or after an error).</summary>
    public bool IsRunning => !_faulted && _thread.IsAlive && !_shutdown.IsCancellationRequested;
    public SchedulerStats Stats { get; }
    public SafeLlamaModelHandle Model => _context.NativeHandle.ModelHandle;

    /// <summary>How much text the model's context can hold, to refuse longer text before tokenizing it.</summary>
    public TokenizerBound TextBound => _textBound ??= TokenizerBound.Of(Model);

    public LLamaToken[] Tokenize(string text, bool addBos, bool special) =>
        _context.NativeHandle.Tokenize(text, addBos, special, System.Text.Encoding.UTF8);

    /// <summary>Queues a generation; throws QueueFullException or PromptTooLongException.</summary>
    public GenerationStream Submit(GenerationRequest request)
    {
        // Failure first: the manager disposes a dead runner at once, and a request that already held it must
        // still get the clear, retryable "scheduler stopped" error rather than a disposed-object one.
        if (_faulted) throw new SchedulerFailedException();
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (request.PromptTokens.Length == 0) throw new ArgumentException("prompt has no tokens");
        if (request.PromptTokens.Length >= _settings.ContextLength)
            throw new PromptTooLongException(request.PromptTokens.Length, _settings.ContextLength);

        // The output channel exists before the loop admits the request, so the caller can wait on it.
        var output = Channel.CreateUnbounded<GenerationEvent>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        // The writer is completed when the loop dies: a request written before that is failed by the loop, none after.
        if (!_pending.Writer.TryWrite(new PendingRequest(request, output, Stopwatch.GetTimestamp()))) throw _faulted ? new SchedulerFailedException() : new QueueFullException();
        Stats.QueuedRequests = Interlocked.Increment(ref _queued);
        _submitted.Set();
        return new GenerationStream(output.Reader);
    }

    /// <param name="SubmittedAt">When the request was queued (a Stopwatch timestamp): prompts are paced only against streams generating before it.</param>
    private sealed record PendingRequest(GenerationRequest Request, Channel<GenerationEvent> Output, long SubmittedAt);

    private void Loop()
    {
        var batch = new LLamaBatch();
        try
        {
            while (!_shutdown.IsCancellationRequested)
            {
                // Cancelled sequences go first: a waiting request may then start from their cells.
                DropCancelled();
                Admit();
                PublishKvUsage();
                // Deferred requests only wait on a running sequence, so none are left here.
                if (_active.Count == 0)
                {
                    WaitForWork();
                    continue;
                }
                GatherBurst();
                OrderNewSequencesByLength();
                Step(batch);
                PublishKvUsage();
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Nothing can be decoded any more: every request this runner holds or will be handed
            // fails now (none waits on a loop that is gone), and the manager reloads the model.
            _faulted = true;
            _pending.Writer.TryComplete();
            _logger.LogError(ex, "The scheduler loop failed; its requests fail and the model is reloaded on the next request");
            var message = $"the model's scheduler stopped after an internal error ({ex.Message}); the model is reloaded on the next request";
            foreach (var slot in _active)
            {
                slot.Fail(message);
                slot.Dispose();
            }
            _active.Clear();
            foreach (var item in _deferred) Fail(item.Output, message);
            _deferred.Clear();
            while (_pending.Reader.TryRead(out var item))
            {
                Interlocked.Decrement(ref _queued);
                Fail(item.Output, message);
            }
            Stats.QueuedRequests = 0;
            Stats.ActiveSequences = 0;
        }
        finally
        {
            foreach (var slot in _active)
            {
                slot.Complete(FinishReason.Unload);
                slot.Dispose();
            }
            _active.Clear();
            foreach (var item in _deferred) CompleteUnstarted(item.Output, FinishReason.Unload);
            _deferred.Clear();
            while (_pending.Reader.TryRead(out var item)) CompleteUnstarted(item.Output, FinishReason.Unload);
        }
    }

    private static void Fail(Channel<GenerationEvent> output, string message)
    {
        output.Writer.TryWrite(new GenerationFailed(message));
        output.Writer.TryComplete();
    }

    /// <summary>The cells the sequences hold now (read by the KV-cache utilization gauge).</summary>
    private void PublishKvUsage()
    {
        long used = _cache.TotalTokens;
        foreach (var slot in _active) used += slot.KvTokens.Count;
        Stats.KvCellsUsed = used;
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

    /// <summary>Share of an idle runner's first step that it waits for more of a burst at most (between two arrivals).</summary>
    private const double BurstWaitShare = 0.01;

    /// <summary>
    /// Before the first step of new prompts on a runner with nothing generating, waits for more of a burst of clients:
    /// until no request has come for a quiet period (<see cref="RunnerSettings.BurstQuietPeriod"/>, 2 ms, or 1 % of the
    /// step's expected time when that is less), ten quiet periods at most. Without it the first request of a burst took a
    /// step alone: its prefill keeps both cores busy, so the server reads the rest only after it, and they wait out that
    /// whole step before theirs starts.
    /// Measured on a 1B model with 16 clients sending at once: one or five prompts went first (0.4-1.4 s), the others
    /// then waited that long for their first token. A lone request pays the quiet period, under 1 % of its time to first
    /// token; a tiny model, whose steps take a millisecond or two, never waits (late arrivals lose little there anyway).
    /// With a sequence generating it never waits: that would stretch its inter-token time.
    /// </summary>
    private void GatherBurst()
    {
        int promptTokens = 0;
        foreach (var slot in _active)
        {
            // Only before a prompt's first chunk: a long prompt's later chunks do not wait again.
            if (!slot.Prefilling || slot.PromptDone > slot.CachedTokens) return;
            promptTokens += slot.Request.PromptTokens.Length - slot.PromptDone;
        }
        double expected = _pacer.PromptSeconds(Math.Min(promptTokens, _settings.StepTokenBudget));
        var quiet = TimeSpan.FromSeconds(Math.Min(_settings.BurstQuietPeriod.TotalSeconds, BurstWaitShare * expected));
        var most = 10 * quiet;
        if (quiet < TimeSpan.FromMilliseconds(0.5)) return;

        _submitted.Reset();
        long started = Stopwatch.GetTimestamp(), lastArrival = started;
        int admitted = _active.Count + _deferred.Count, before = admitted;
        while (admitted < _settings.Parallel)
        {
            var left = Min(quiet - Stopwatch.GetElapsedTime(lastArrival), most - Stopwatch.GetElapsedTime(started));
            if (left <= TimeSpan.Zero) break;
            // Set by Submit: a precise wake-up (a cancellation timer fired up to 6 ms late on a busy machine).
            _submitted.Wait(left);
            _submitted.Reset();
            if (_shutdown.IsCancellationRequested) return;
            Admit();
            int now = _active.Count + _deferred.Count;
            if (now > admitted) lastArrival = Stopwatch.GetTimestamp();
            admitted = now;
        }
        if (_logger.IsEnabled(LogLevel.Trace))
            _logger.LogTrace("waited {Ms:F1} ms for a burst: {Arrived} more requests", Stopwatch.GetElapsedTime(started).TotalMilliseconds, admitted - before);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// Gives the sequences that hold no KV cells yet (new prompts, none reused) their ids in order of prompt length, the
    /// shortest on the lowest id. With a KV stream per sequence, llama.cpp splits a step into micro-batches of
    /// consecutive ids taking the same number of tokens from each (split_equal), and every micro-batch is a pass over
    /// the weights. Eight prompts of 34 to 46 tokens in arrival order made six passes for one step of 330 tokens (2.6 s
    /// on the 1B model, LLAMA_BATCH_DEBUG=1); ordered by length, a step takes one pass per distinct length left over.
    /// The ids are the ones these sequences already hold, so nothing else moves.
    /// </summary>
    private void OrderNewSequencesByLength()
    {
        _fresh.Clear();
        foreach (var slot in _active)
            if (slot.HasNoCells) _fresh.Add(slot);
        if (_fresh.Count < 2) return;
        _freshIds.Clear();
        foreach (var slot in _fresh) _freshIds.Add(slot.SeqId.Value);
        _freshIds.Sort();
        // Stable: equal lengths keep their arrival order.
        var byLength = _fresh.OrderBy(s => s.Request.PromptTokens.Length).ToList();
        bool moved = false;
        for (int i = 0; i < byLength.Count; i++)
        {
            if (byLength[i].SeqId.Value == _freshIds[i]) continue;
            byLength[i].TakeId((LLamaSeqId)_freshIds[i]);
            moved = true;
        }
        if (moved) _active.Sort((a, b) => a.SeqId.Value.CompareTo(b.SeqId.Value));
    }

    // Reused by OrderNewSequencesByLength.
    private readonly List<SequenceSlot> _fresh = [];
    private readonly List<int> _freshIds = [];

    private void Admit()
    {
        // Waiting requests first (they came before anything still queued), in arrival order.
        for (int i = 0; i < _deferred.Count; i++)
        {
            var item = _deferred[i];
            if (item.Request.Cancellation.IsCancellationRequested)
            {
                _deferred.RemoveAt(i--);
                Stats.RecordCancelled();
                CompleteUnstarted(item.Output, FinishReason.Cancelled);
                continue;
            }
            var (now, later) = ReusableNowAndLater(item.Request.PromptTokens);
            if (PromptSharing.ShouldKeepWaiting(now, later)) continue;
            _deferred.RemoveAt(i--);
            Start(item);
        }

        while (_active.Count + _deferred.Count < _settings.Parallel && _pending.Reader.TryRead(out var item))
        {
            Interlocked.Decrement(ref _queued);
            if (item.Request.Cancellation.IsCancellationRequested)
            {
                Stats.RecordCancelled();
                CompleteUnstarted(item.Output, FinishReason.Cancelled);
                continue;
            }
            var prompt = item.Request.PromptTokens;
            var (now, later) = ReusableNowAndLater(prompt);
            if (PromptSharing.ShouldDefer(prompt.Length, now, later))
            {
                _deferred.Add(item);
                Stats.RecordDeferred();
                continue;
            }
            Start(item);
        }
        Stats.QueuedRequests = Volatile.Read(ref _queued) + _deferred.Count;
        Stats.ActiveSequences = _active.Count;
    }

    private void Start(PendingRequest item)
    {
        SequenceSlot slot;
        try
        {
            slot = StartSequence(item);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One bad request (e.g. a sampler llama.cpp refuses) must not take the loop down.
            _logger.LogWarning(ex, "Could not start a sequence");
            Fail(item.Output, "could not start generation: " + ex.Message);
            return;
        }
        int at = _active.FindIndex(s => s.SeqId.Value > slot.SeqId.Value);
        _active.Insert(at < 0 ? _active.Count : at, slot);
        if (_logger.IsEnabled(LogLevel.Trace))
            _logger.LogTrace("started sequence {Seq} {Ms:F1} ms after it was queued: {Prompt} prompt tokens, {Cached} reused",
                slot.SeqId.Value, Stopwatch.GetElapsedTime(item.SubmittedAt).TotalMilliseconds, slot.Request.PromptTokens.Length, slot.CachedTokens);
    }

    /// <summary>
    /// Prompt tokens a request could reuse if it started now, and once the prompts still being
    /// evaluated are done (their whole prompts, not just the cells they hold yet); both capped
    /// at the prompt length − 1, since the last token is always evaluated.
    /// </summary>
    private (int Now, int Later) ReusableNowAndLater(LLamaToken[] prompt)
    {
        int cap = prompt.Length - 1;
        int now = ReusablePrefix(prompt).Length;
        int later = now;
        foreach (var slot in _active)
            if (slot.Prefilling)
                later = Math.Max(later, Math.Min(PrefixCache.CommonPrefix(slot.Request.PromptTokens, prompt), cap));
        return (now, later);
    }

    /// <summary>
    /// Gives a request a sequence, reusing the longest cached or running prefix of its prompt, so
    /// only the rest of the prompt is evaluated. A finished sequence's cells are taken over where
    /// they are (a chat follow-up continues its own stream): nothing is copied. A running
    /// sequence's cells (requests sharing a prompt at the same time) are copied into a new one.
    /// </summary>
    private SequenceSlot StartSequence(PendingRequest item)
    {
        var prompt = item.Request.PromptTokens;
        var (entry, running, reuse) = ReusablePrefix(prompt);
        LLamaSeqId seq;
        if (entry is not null)
        {
            _cache.Remove(entry);
            seq = entry.SeqId;
            _context.NativeHandle.MemorySequenceRemove(seq, reuse, -1);
            Stats.RecordReusedInPlace();
        }
        else
        {
            seq = TakeFreeId();
            if (running is not null)
            {
                // Sequences live in separate KV streams, and llama.cpp copies between streams whole;
                // the copy is then cut back to the shared prefix.
                _context.NativeHandle.MemorySequenceCopy(running.SeqId, seq, -1, -1);
                _context.NativeHandle.MemorySequenceRemove(seq, reuse, -1);
                Stats.RecordStreamCopied();
            }
        }
        _ids[seq.Value] = SequenceIds.State.Running;

        SequenceSlot slot;
        try
        {
            slot = new SequenceSlot(item.Request, seq, _context.NativeHandle, _settings.ContextLength, item.Output) { SubmittedAt = item.SubmittedAt };
        }
        catch
        {
            FreeId(seq);
            throw;
        }
        slot.KvTokens.AddRange(prompt.AsSpan(0, reuse));
        slot.PromptDone = reuse;
        slot.Position = reuse;
        slot.CachedTokens = reuse;
        Stats.RecordCached(reuse);
        return slot;
    }

    /// <summary>
    /// The longest prefix of the prompt held by a cached entry or a running sequence (an idle entry
    /// on a tie: it needs no copy), capped at the prompt length − 1 (the last token is always
    /// evaluated: its logits give the first generated token). Reusing fewer tokens than
    /// <see cref="PromptSharing.WorthReusing"/> asks for is not worth a stream copy or a cached
    /// entry's tail (a BOS token in common): then nothing is reused.
    /// </summary>
    private (PrefixCache.Entry? Entry, SequenceSlot? Running, int Length) ReusablePrefix(LLamaToken[] prompt)
    {
        var (entry, length) = _cache.FindLongestPrefix(prompt);
        SequenceSlot? running = null;
        // A sequence still running (e.g. the first of many clients sharing a system prompt) is a source too.
        foreach (var slot in _active)
        {
            int n = PrefixCache.CommonPrefix(ReusableKv(slot), prompt);
            if (n > length)
            {
                length = n;
                running = slot;
                entry = null;
            }
        }
        length = Math.Min(length, prompt.Length - 1);
        return PromptSharing.WorthReusing(length, prompt.Length) ? (entry, running, length) : (null, null, 0);
    }

    /// <summary>The start of a running slot's KV tokens that another prompt may reuse (all of them unless it was shifted).</summary>
    private static ReadOnlySpan<LLamaToken> ReusableKv(SequenceSlot slot)
    {
        var tokens = CollectionsMarshal.AsSpan(slot.KvTokens);
        return tokens[..Math.Min(tokens.Length, slot.ReusableKvCount)];
    }

    /// <summary>An id for a sequence that starts empty: a free one, or a cached entry's (evicted), as <see cref="SequenceIds.Choose"/> picks.</summary>
    private LLamaSeqId TakeFreeId()
    {
        int id = _ids.Choose(i => _cache.At((LLamaSeqId)i)?.LastUsed ?? long.MinValue);
        if (id < 0) throw new InvalidOperationException("every sequence id is running");
        if (_cache.At((LLamaSeqId)id) is { } evicted)
        {
            _cache.Remove(evicted);
            _context.NativeHandle.MemorySequenceRemove(evicted.SeqId, -1, -1);
            _ids[id] = SequenceIds.State.Free;
            Stats.CachedSequences = _cache.Count;
        }
        return (LLamaSeqId)id;
    }

    /// <summary>Drops an id's cells (a running sequence that ended, a cached entry given up).</summary>
    private void FreeId(LLamaSeqId seq)
    {
        _context.NativeHandle.MemorySequenceRemove(seq, -1, -1);
        _ids[seq.Value] = SequenceIds.State.Free;
    }

    private void DropCancelled()
    {
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            var slot = _active[i];
            if (!slot.Request.Cancellation.IsCancellationRequested) continue;
            Stats.RecordCancelled();
            Release(i, FinishReason.Cancelled);
        }
    }

    private void Step(LLamaBatch batch)
    {
        batch.Clear();
        _stepping.Clear();
        int budget = _settings.StepTokenBudget;
        int promptTokens = 0, decodeTokens = 0, drafted = 0;

        // Running streams get one token each, so a long prompt never stalls them. A prompt yields to
        // the streams that were already generating when it arrived: it gets chunks of what the pacer
        // allows. Requests that arrived together (before any of them had output, e.g. a burst of
        // clients) are not paced against each other: their prompts fill the step, as in llama.cpp's
        // server, so the last of them gets its first token a few steps sooner instead of dozens.
        // Tokens go in sequence-id order (see SequenceIds.Choose).
        int decoding = 0;
        long generatingSince = long.MaxValue;
        foreach (var slot in _active)
        {
            if (slot.Prefilling) continue;
            decoding++;
            generatingSince = Math.Min(generatingSince, slot.GeneratingSince);
        }
        // Batch-invariant steps keep room for each sequence's padding (up to StepPadding.Quantum - 1 tokens).
        if (_settings.BatchInvariant) budget -= (StepPadding.Quantum - 1) * _active.Count;
        int promptBudget = budget - decoding;
        int pacedBudget = Math.Min(promptBudget, _pacer.PromptBudget(decoding, promptBudget));
        foreach (var slot in _active)
        {
            slot.LogitsIndex = -1;
            slot.TokensInStep = 0;
            slot.PromptInStep = slot.Prefilling;
            bool paced = slot.Prefilling && generatingSince < slot.SubmittedAt;
            int n = slot.Prefilling ? Math.Min(slot.Request.PromptTokens.Length - slot.PromptDone, paced ? Math.Min(promptBudget, pacedBudget) : promptBudget) : 1;
            if (n <= 0) continue;
            AddToBatch(batch, slot, n, _settings.BatchInvariant);
            // A stream decoding alone verifies guessed tokens in the same decode; with company, it batches as usual.
            if (_drafts is not null && _active.Count == 1 && !slot.PromptInStep) drafted = _drafts.AddDrafts(batch, slot, promptBudget);
            _stepping.Add(slot);
            if (slot.PromptInStep)
            {
                promptBudget -= n;
                if (paced) pacedBudget -= n;
                promptTokens += n;
            }
            else decodeTokens++;
        }
        if (_stepping.Count == 0) return;

        var started = Stopwatch.GetTimestamp();
        var result = DecodePadded(batch, _stepping);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (result == DecodeResult.Ok)
        {
            // A step with drafts is longer than a decode-only step: the pacer would take it for one.
            if (drafted == 0) _pacer.Observe(decodeTokens, promptTokens, elapsed);
            Stats.RecordStep(_stepping.Count, promptTokens, batch.TokenCount, elapsed);
            if (_logger.IsEnabled(LogLevel.Trace))
                _logger.LogTrace("step: {Sequences} sequences, {Decode} decode + {Prompt} prompt tokens, {Ms:F1} ms",
                    _stepping.Count, decodeTokens, promptTokens, elapsed.TotalMilliseconds);
            AfterDecode(_stepping, batch.TokenCount, elapsed);
            return;
        }

        // A failed batch says nothing about which sequence failed: undo the step and decode each
        // sequence alone, so only those that fail by themselves end (with an error), and the rest go on.
        _logger.LogWarning("llama_decode returned {Result} for a batch of {Tokens} tokens from {Sequences} sequences; decoding them one at a time",
            result, batch.TokenCount, _stepping.Count);
        var stepping = _stepping.ToList();
        foreach (var slot in stepping) Rewind(slot);
        foreach (var slot in stepping)
        {
            batch.Clear();
            int n = slot.TokensInStep;
            AddToBatch(batch, slot, n, _settings.BatchInvariant);
            started = Stopwatch.GetTimestamp();
            var alone = DecodePadded(batch, [slot]);
            elapsed = Stopwatch.GetElapsedTime(started);
            if (alone != DecodeResult.Ok)
            {
                _logger.LogError("llama_decode returned {Result} for one sequence's {Tokens} tokens; that generation fails", alone, n);
                Rewind(slot);
                Release(_active.IndexOf(slot), null, alone == DecodeResult.NoKvSlot
                    ? "decode failed: the KV cache is full"
                    : $"decode failed: {alone}");
                continue;
            }
            Stats.RecordStep(1, slot.PromptInStep ? n : 0, n, elapsed);
            AfterDecode([slot], n, elapsed);
        }
    }

    /// <summary>Puts a slot's next n tokens (its last sampled token, or a chunk of its prompt) into the batch.</summary>
    /// <remarks>Batch-invariant: a prompt's last chunk also asks for logits of the tokens before its last one, up to <see cref="StepPadding.Quantum"/> outputs with the padding (see <see cref="StepPadding"/>).</remarks>
    private static void AddToBatch(LLamaBatch batch, SequenceSlot slot, int n, bool invariant)
    {
        slot.StepStart = (slot.Position, slot.PromptDone, slot.KvTokens.Count);
        slot.TokensInStep = n;
        slot.PromptInStep = slot.Prefilling;
        if (!slot.Prefilling)
        {
            slot.LogitsIndex = batch.Add(slot.LastToken, slot.Position++, slot.SeqId, true);
            slot.KvTokens.Add(slot.LastToken);
            return;
        }
        var prompt = slot.Request.PromptTokens;
        bool last = slot.PromptDone + n == prompt.Length;
        int index = invariant && last
            ? StepPadding.AddLastChunk(batch, prompt.AsSpan(slot.PromptDone, n), slot.Position, slot.SeqId)
            : batch.AddRange(prompt.AsSpan(slot.PromptDone, n), slot.Position, slot.SeqId, last);
        slot.KvTokens.AddRange(prompt.AsSpan(slot.PromptDone, n));
        slot.PromptDone += n;
        slot.Position += n;
        slot.LogitsIndex = last ? index : -1;
    }

    /// <summary>Undoes a slot's part of a step that failed: its KV cells from the step on, and its counters.</summary>
    private void Rewind(SequenceSlot slot)
    {
        var (position, promptDone, kvTokens) = slot.StepStart;
        _context.NativeHandle.MemorySequenceRemove(slot.SeqId, position, -1);
        slot.Position = position;
        slot.PromptDone = promptDone;
        slot.KvTokens.RemoveRange(kvTokens, slot.KvTokens.Count - kvTokens);
        slot.LogitsIndex = -1;
        _drafts?.Forget();
    }

    /// <summary>Decodes, with each sequence's tokens padded to a multiple of <see cref="StepPadding.Quantum"/> first in batch-invariant mode; the padding's cells are removed after.</summary>
    private DecodeResult DecodePadded(LLamaBatch batch, IReadOnlyList<SequenceSlot> slots)
    {
        if (!_settings.BatchInvariant) return Decode(batch, slots);
        var pads = StepPadding.Pad(batch, slots);
        try
        {
            return Decode(batch, slots);
        }
        finally
        {
            foreach (var (seq, position) in pads) _context.NativeHandle.MemorySequenceRemove(seq, position, -1);
        }
    }

    /// <summary>Decodes; when the KV cache is full, gives up cached prefixes and tries the same batch again.</summary>
    private DecodeResult Decode(LLamaBatch batch, IReadOnlyList<SequenceSlot> slots)
    {
        // One list for every step (the decode seam reads it during the call only): no garbage per step.
        var requests = _stepRequests;
        requests.Clear();
        foreach (var slot in slots) requests.Add(slot.Request);
        var result = DecodeInTurn(batch, requests);
        while (result == DecodeResult.NoKvSlot && _cache.EvictLeastRecentlyUsed() is { } lru)
        {
            FreeId(lru.SeqId);
            result = DecodeInTurn(batch, requests);
        }
        return result;
    }

    private DecodeResult DecodeInTurn(LLamaBatch batch, IReadOnlyList<GenerationRequest> requests) =>
        EmbeddingNeighbor is { } embeddings
            ? embeddings.GenerationDecode(() => DecodeStep(batch, requests))
            : DecodeStep(batch, requests);

    /// <summary>
    /// After a decode: shares out its time and samples every slot whose logits it computed. A slot
    /// whose sampling throws (a sampler llama.cpp refuses, a token it cannot decode) ends with an
    /// error; the others are not affected.
    /// </summary>
    private void AfterDecode(IReadOnlyList<SequenceSlot> slots, int total, TimeSpan elapsed)
    {
        for (int k = slots.Count - 1; k >= 0; k--)
        {
            var slot = slots[k];
            var share = elapsed * ((double)slot.TokensInStep / total);
            if (slot.PromptInStep) slot.PromptEvalTime += share; else slot.EvalTime += share;
            if (slot.LogitsIndex < 0) continue;
            FinishReason? finish;
            try
            {
                finish = _drafts is { } drafts && drafts.Holds(slot) ? drafts.Verify(slot) : SampleNext(slot);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.LogWarning(ex, "A sequence failed after its decode; the other sequences go on");
                Release(_active.IndexOf(slot), null, "generation failed: " + ex.Message);
                continue;
            }
            if (finish is { } reason) Release(_active.IndexOf(slot), reason);
        }
    }

    /// <summary>Samples this slot's next token and emits its text; returns a reason when it is done.</summary>
    private FinishReason? SampleNext(SequenceSlot slot)
    {
        // What the grammar allows next is worked out only for the split sampler, the one that uses it.
        // With a grammar, only tokens that keep the output valid UTF-8 the follower reads as llama.cpp does (TokenTextGuard).
        var allowed = slot.Closer is { Lost: false } following ? slot.TextGuard?.Allowed(following.Pending) : null;
        var token = slot.Sampler.Sample(_context.NativeHandle, slot.LogitsIndex, slot.Sampler.IsSplit ? slot.Closer?.NextCharacters() : null, allowed);
        if (token.IsEndOfGeneration(_context.NativeHandle.Vocab)) return FinishReason.Stop;

        // Complete by construction: a token after which the document could no longer be finished in the
        // budget is replaced by the shortest text that finishes it now.
        var decision = new CloseDecision(CloseAction.Accept);
        if (slot.Closer is { } closer)
        {
            decision = closer.Next(slot.PieceOf(token), slot.Request.CloseGrammar ? slot.TokensLeft() - 1 : int.MaxValue);
            if (closer.Lost)
            {
                _logger.LogWarning("The grammar follower lost the output's state; this sequence is no longer closed at the end of its budget");
                slot.DropCloser();
            }
            if (decision.Action == CloseAction.CloseInstead) return Close(slot, decision);
        }

        if (slot.EvalCount == 0) slot.GeneratingSince = Stopwatch.GetTimestamp();
        slot.EvalCount++;
        Stats.RecordGenerated();
        slot.LastToken = token;
        slot.OutputTokens?.Add(token);
        slot.Decoder.Add(token);
        var text = slot.Decoder.Read();
        if (slot.ObserveOutput(text)) Stats.RecordGrammarReleased();
        var (emit, stopped) = slot.Stops.Push(text);
        if (slot.Request.TopLogprobs is { } top) slot.PendingLogprobs.Add(Logprobs.Of(_context.NativeHandle, slot.LogitsIndex, token, top));
        if (emit.Length > 0)
        {
            slot.Output.Writer.TryWrite(new TokenPiece(emit, slot.PendingLogprobs.Count > 0 ? [.. slot.PendingLogprobs] : null));
            slot.PendingLogprobs.Clear();
        }
        if (stopped) return FinishReason.Stop;
        if (decision.Action == CloseAction.CloseAfter) return Close(slot, decision);

        int max = slot.Request.MaxTokens;
        // A full context is shifted when the request allows it (the token goes in at the shifted position).
        if (slot.Position + 1 >= slot.ContextLength && !(max >= 0 && slot.EvalCount >= max) && ContextShift.TryShift(_context.NativeHandle, slot))
            Stats.RecordContextShift();
        if ((max >= 0 && slot.EvalCount >= max) || slot.Position + 1 >= slot.ContextLength)
        {
            // Within the budget the document is already complete here; below the shortest document it is closed now.
            if (slot.Request.CloseGrammar && slot.Closer?.Rest() is { Text.Length: > 0 } rest) return Close(slot, new CloseDecision(CloseAction.CloseInstead, rest.Text, rest.Tokens));
            return FinishReason.Length;
        }
        return null;
    }

    /// <summary>
    /// Emits the text that finishes a grammar's document, through the stop filter like any piece, counting the
    /// tokens the model's tokenizer makes of it; the finish reason stays Length so clients know it was cut.
    /// </summary>
    private FinishReason Close(SequenceSlot slot, CloseDecision decision)
    {
        slot.EvalCount += decision.Tokens;
        slot.OutputTokens?.AddRange(_context.NativeHandle.Tokenize(decision.Text, false, false, System.Text.Encoding.UTF8));
        for (int i = 0; i < decision.Tokens; i++) Stats.RecordGenerated();
        Stats.RecordClosed();
        var (emit, stopped) = slot.Stops.Push(decision.Text);
        if (emit.Length > 0 || slot.PendingLogprobs.Count > 0)
        {
            slot.Output.Writer.TryWrite(new TokenPiece(emit, slot.PendingLogprobs.Count > 0 ? [.. slot.PendingLogprobs] : null));
            slot.PendingLogprobs.Clear();
        }
        return stopped ? FinishReason.Stop : FinishReason.Length;
    }

    /// <summary>
    /// Removes a finished slot. A sequence that completed keeps its KV cells, where they are, as a
    /// cached prefix; a cancelled or failed one frees them at once, unless a waiting request shares
    /// them (a cancelled leader of forks hands over what it evaluated instead of wasting it).
    /// </summary>
    private void Release(int index, FinishReason? reason, string? error = null)
    {
        var slot = _active[index];
        _active.RemoveAt(index);
        // A shifted sequence's moved cells are not what its tokens evaluate to from scratch (see ContextShift): not kept.
        bool useful = slot.ContextShifts == 0 && (reason is FinishReason.Stop or FinishReason.Length ||
                      reason is FinishReason.Cancelled && _deferred.Exists(d => PromptSharing.WorthReusing(
                          PrefixCache.CommonPrefix(CollectionsMarshal.AsSpan(slot.KvTokens), d.Request.PromptTokens), d.Request.PromptTokens.Length)));
        bool keep = useful && _cache.MaxEntries > 0 && slot.KvTokens.Count > 0;
        if (keep)
        {
            _ids[slot.SeqId.Value] = SequenceIds.State.Cached;
            foreach (var redundant in _cache.Add(slot.SeqId, [.. slot.KvTokens])) FreeId(redundant.SeqId);
        }
        else FreeId(slot.SeqId);
        if (reason is { } r) slot.Complete(r); else slot.Fail(error ?? "generation failed");
        slot.Dispose();
        Stats.ActiveSequences = _active.Count;
        Stats.CachedSequences = _cache.Count;
    }

    private static void CompleteUnstarted(Channel<GenerationEvent> output, FinishReason reason)
    {
        output.Writer.TryWrite(new GenerationCompleted(reason, 0, TimeSpan.Zero, 0, TimeSpan.Zero));
        output.Writer.TryComplete();
    }

    public void Dispose()
    {
        if (_shutdown.IsCancellationRequested) return;
        _shutdown.Cancel();
        _pending.Writer.TryComplete();
        _thread.Join();
        _context.Dispose();
        _shutdown.Dispose();
        _submitted.Dispose();
    }
}
