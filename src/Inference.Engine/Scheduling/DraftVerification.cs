using System.Runtime.InteropServices;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// N-gram (prompt-lookup) speculative decoding for a sequence that decodes alone: its step carries, besides its last
/// sampled token, up to <see cref="MaxDraftTokens"/> tokens guessed by <see cref="NGramDraft"/>, all with logits, in
/// one decode. The sequence's own sampler then samples position after position, exactly as it would step by step:
/// each position's logits are those the model gives after the tokens before it, and a draft token is kept only while
/// it equals what the sampler picked at the position before it. The first token the sampler picks differently is
/// kept too (it is the token the step-by-step run samples there), and the rejected drafts' KV cells are removed.
/// The sampler sees the same logits in the same order and accepts the same tokens, so penalties, the seeded
/// distribution's random draws, stop strings, num_predict, logprobs and counts are those of a run without drafts,
/// whatever the sampler; only the number of decode calls changes. (On the CPU a one-token decode and a longer one
/// can differ in the last bits of the logits, as batching does; see <see cref="StepPadding"/>.)
/// <para>
/// Not used with a grammar (the grammar follower and the closer would have to be rewound) nor near the end of the
/// context (a context shift moves the cells the drafts were decoded against). Only one sequence drafts at a time, so
/// this holds the state of one step, and how well drafting has guessed for that sequence (the draft length adapts).
/// </para>
/// </summary>
internal sealed class DraftVerification(SafeLLamaContextHandle context, int maxDraftTokens, SchedulerStats stats,
    Func<SequenceSlot, FinishReason?> sampleNext)
{
    public int MaxDraftTokens { get; } = maxDraftTokens;

    private readonly LLamaToken[] _draft = new LLamaToken[maxDraftTokens];
    // Adapts drafting to how well it guesses for the sequence that drafts (a new one starts afresh): the draft length
    // doubles after a step whose drafts were all accepted and falls to one more than were accepted otherwise; after a
    // draft of one that failed, the next drafts wait a number of steps that doubles with each such failure (at most
    // MaxBackoff) and is reset by any accepted draft. Wrong drafts cost decode rows; text the model does not copy
    // then costs nearly nothing.
    private SequenceSlot? _adaptingFor;
    private int _length;
    private int _backoff;
    private int _wait;
    internal const int MaxBackoff = 32;
    // The slot whose drafts are in the current step's batch (null when none), how many, and the first one's logits index.
    private SequenceSlot? _slot;
    private int _count;
    private int _firstLogits;

    /// <summary>
    /// Adds drafts after the slot's last token, which <c>AddToBatch</c> has just put into the batch with logits;
    /// <paramref name="room"/> is what the step's token budget has left. Returns how many were added.
    /// </summary>
    public int AddDrafts(LLamaBatch batch, SequenceSlot slot, int room)
    {
        _slot = null;
        if (slot.Request.Sampling.Grammar is not null || slot.LogitsIndex < 0) return 0;
        if (!ReferenceEquals(_adaptingFor, slot)) (_adaptingFor, _length, _backoff, _wait) = (slot, MaxDraftTokens, 0, 0);
        if (_wait > 0)
        {
            _wait--;
            return 0;
        }
        // Never reach the point where sampling shifts the context or stops at its end: SampleNext checks
        // Position + 1 against the context, and with k drafts the last position sampled is Position + k.
        int k = Math.Min(_length, Math.Min(room, slot.ContextLength - slot.Position - 2));
        // More than num_predict leaves room for would be decoded for nothing.
        if (slot.Request.MaxTokens >= 0) k = Math.Min(k, slot.Request.MaxTokens - slot.EvalCount - 1);
        if (k <= 0) return 0;
        // The last token is already among the KV tokens: the history ends with it.
        int n = NGramDraft.Propose(CollectionsMarshal.AsSpan(slot.KvTokens), _draft.AsSpan(0, k));
        if (n == 0) return 0;
        _firstLogits = slot.LogitsIndex;
        for (int i = 0; i < n; i++)
        {
            batch.Add(_draft[i], slot.Position++, slot.SeqId, true);
            slot.KvTokens.Add(_draft[i]);
        }
        slot.TokensInStep += n;
        _slot = slot;
        _count = n;
        return n;
    }

    /// <summary>Whether the slot's drafts are in the step just decoded (then <see cref="Verify"/> samples it).</summary>
    public bool Holds(SequenceSlot slot) => ReferenceEquals(_slot, slot);

    /// <summary>The step is undone (its decode failed): its drafts are not verified.</summary>
    public void Forget() => _slot = null;

    /// <summary>
    /// Samples the slot position by position while the drafts hold (see the class summary), then removes the cells of
    /// the drafts not kept; returns a reason when the sequence is done, as <c>SampleNext</c> does.
    /// </summary>
    public FinishReason? Verify(SequenceSlot slot)
    {
        _slot = null;
        var (position, _, kvTokens) = slot.StepStart;
        FinishReason? finish = null;
        // Tokens sampled: the cells of the last token and of the drafts before the last sampled position stay.
        int sampled = 0;
        for (int i = 0; i <= _count; i++)
        {
            slot.LogitsIndex = _firstLogits + i;
            // Where the position would be at this point step by step (after the token whose logits are read).
            slot.Position = position + i + 1;
            finish = sampleNext(slot);
            sampled = i + 1;
            if (finish is not null || i == _count || slot.LastToken != _draft[i]) break;
        }
        if (sampled <= _count) context.MemorySequenceRemove(slot.SeqId, position + sampled, -1);
        slot.KvTokens.RemoveRange(kvTokens + sampled, slot.KvTokens.Count - kvTokens - sampled);
        slot.Position = position + sampled;
        int accepted = sampled - 1;
        stats.RecordDrafts(_count, accepted);
        Adapt(accepted);
        return finish;
    }

    private void Adapt(int accepted)
    {
        if (accepted == _count) _length = Math.Min(MaxDraftTokens, 2 * _length);
        else _length = accepted + 1;
        if (accepted > 0) _backoff = 0;
        else if (_count == 1)
        {
            _backoff = Math.Clamp(2 * _backoff, 1, MaxBackoff);
            _wait = _backoff;
        }
    }
}
