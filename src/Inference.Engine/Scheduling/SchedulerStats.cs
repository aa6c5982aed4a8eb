namespace Inference.Engine.Scheduling;

/// <summary>Told about every decode step (the server turns this into a batch-size histogram).</summary>
public interface ISchedulerObserver
{
    void OnStep(string model, int sequences, int tokens, TimeSpan elapsed);
}

/// <summary>
/// Counters the scheduler loop updates, read by metrics and tests. One instance per model name,
/// kept by the model manager across reloads, so the counters only ever go up.
/// </summary>
public sealed class SchedulerStats(string model, ISchedulerObserver? observer = null)
{
    public string Model { get; } = model;

    private long _decodeSteps, _batchedSequenceSteps, _promptTokens, _cachedTokens, _generatedTokens, _cancelled, _grammarsReleased, _deferred, _closed,
        _reusedInPlace, _streamsCopied, _contextShifts, _truncated, _draftsProposed, _draftsAccepted;
    private int _maxSequencesInStep;

    public long DecodeSteps => Interlocked.Read(ref _decodeSteps);
    /// <summary>Sum over steps of the sequences decoded in that step.</summary>
    public long BatchedSequenceSteps => Interlocked.Read(ref _batchedSequenceSteps);
    public int MaxSequencesInStep => Volatile.Read(ref _maxSequencesInStep);
    public long PromptTokensEvaluated => Interlocked.Read(ref _promptTokens);
    /// <summary>Prompt tokens taken from the prefix cache instead of being evaluated.</summary>
    public long PromptTokensCached => Interlocked.Read(ref _cachedTokens);
    /// <summary>Sequences that continued a finished sequence's KV cells where they were (no copy).</summary>
    public long PrefixesReusedInPlace => Interlocked.Read(ref _reusedInPlace);
    /// <summary>KV streams copied whole into a new sequence, to share a running sequence's prefix.</summary>
    public long KvStreamsCopied => Interlocked.Read(ref _streamsCopied);
    public long TokensGenerated => Interlocked.Read(ref _generatedTokens);
    public long CancelledSequences => Interlocked.Read(ref _cancelled);
    /// <summary>Sequences whose tool-call grammar was dropped because the output became free text.</summary>
    public long GrammarsReleased => Interlocked.Read(ref _grammarsReleased);
    /// <summary>Grammar-constrained sequences whose budget ran out and that were finished with the shortest valid completion.</summary>
    public long DocumentsClosed => Interlocked.Read(ref _closed);
    /// <summary>Requests that waited for a running prompt they share, to fork its KV cells instead of evaluating it.</summary>
    public long DeferredRequests => Interlocked.Read(ref _deferred);
    /// <summary>Times a generating sequence filled its context and was shifted (Ollama's shift).</summary>
    public long ContextShifts => Interlocked.Read(ref _contextShifts);
    /// <summary>Prompt tokens dropped to fit prompts into the context (Ollama's truncate).</summary>
    public long PromptTokensTruncated => Interlocked.Read(ref _truncated);
    /// <summary>Tokens n-gram drafting put into decode steps to be verified (<see cref="DraftVerification"/>).</summary>
    public long DraftTokensProposed => Interlocked.Read(ref _draftsProposed);
    /// <summary>Draft tokens the model's own sampling confirmed: tokens generated without a decode step of their own.</summary>
    public long DraftTokensAccepted => Interlocked.Read(ref _draftsAccepted);
    public int ActiveSequences { get; internal set; }
    public int QueuedRequests { get; internal set; }
    public int CachedSequences { get; internal set; }
    /// <summary>
    /// KV cells holding tokens: those of the running sequences plus those of cached prefixes still
    /// resident (vLLM counts resident prefix blocks as used too, which the Gateway API Inference
    /// Extension's picker expects).
    /// </summary>
    public long KvCellsUsed { get; internal set; }
    /// <summary>KV cells allocated for the loaded model: one stream of the context length per sequence id.</summary>
    public long KvCellsTotal { get; internal set; }

    internal void RecordStep(int sequences, int promptTokens, int tokens, TimeSpan elapsed)
    {
        observer?.OnStep(Model, sequences, tokens, elapsed);
        Interlocked.Increment(ref _decodeSteps);
        Interlocked.Add(ref _batchedSequenceSteps, sequences);
        Interlocked.Add(ref _promptTokens, promptTokens);
        if (sequences > _maxSequencesInStep) Volatile.Write(ref _maxSequencesInStep, sequences);
    }

    internal void RecordCached(int tokens) => Interlocked.Add(ref _cachedTokens, tokens);
    internal void RecordReusedInPlace() => Interlocked.Increment(ref _reusedInPlace);
    internal void RecordStreamCopied() => Interlocked.Increment(ref _streamsCopied);
    internal void RecordGenerated() => Interlocked.Increment(ref _generatedTokens);
    internal void RecordCancelled() => Interlocked.Increment(ref _cancelled);
    internal void RecordGrammarReleased() => Interlocked.Increment(ref _grammarsReleased);
    internal void RecordClosed() => Interlocked.Increment(ref _closed);
    internal void RecordDeferred() => Interlocked.Increment(ref _deferred);
    internal void RecordContextShift() => Interlocked.Increment(ref _contextShifts);
    internal void RecordDrafts(int proposed, int accepted)
    {
        Interlocked.Add(ref _draftsProposed, proposed);
        Interlocked.Add(ref _draftsAccepted, accepted);
    }
    public void RecordTruncated(long tokens) => Interlocked.Add(ref _truncated, tokens);
}
