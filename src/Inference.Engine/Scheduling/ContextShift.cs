using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// Ollama's context shift (shift: true, the default): when a generating sequence fills its context, the
/// oldest half of its tokens after the kept start (num_keep) is discarded and the rest is moved down, so
/// generation goes on instead of ending with "length". Only that sequence's KV stream is touched
/// (llama_memory_seq_rm + llama_memory_seq_add; llama.cpp re-rotates the moved keys at the next decode).
/// <para>
/// The moved cells were computed while the discarded tokens were still there, so they are not what a
/// fresh evaluation of the remaining tokens would give: after a shift only the kept start of the
/// sequence may be reused by another prompt (<see cref="SequenceSlot.ReusableKvCount"/>), and the
/// sequence is not kept in the prefix cache when it ends.
/// </para>
/// </summary>
internal static class ContextShift
{
    /// <summary>
    /// The tokens a shift discards for a sequence of <paramref name="length"/> tokens that keeps its first
    /// <paramref name="keep"/>: half of the rest, as llama.cpp's server and Ollama's runners do; 0 when
    /// nothing can be discarded (the kept start fills the context).
    /// </summary>
    public static int Discard(int length, int keep) => Math.Max(0, (length - Math.Clamp(keep, 0, length)) / 2);

    /// <summary>
    /// Shifts the slot's sequence if its request allows it and the context can shift; returns false
    /// when it cannot (the caller then ends the sequence with Length).
    /// </summary>
    public static bool TryShift(SafeLLamaContextHandle context, SequenceSlot slot)
    {
        if (!slot.Request.Shift || !context.MemoryCanShift) return false;
        int length = slot.Position;
        int keep = Math.Clamp(slot.Request.KeepTokens, 0, length);
        int discard = Discard(length, keep);
        if (discard <= 0) return false;
        context.MemorySequenceRemove(slot.SeqId, keep, keep + discard);
        context.MemorySequenceAdd(slot.SeqId, keep + discard, length, -discard);
        slot.KvTokens.RemoveRange(keep, discard);
        slot.Position = length - discard;
        slot.ContextShifts++;
        slot.ReusableKvCount = Math.Min(slot.ReusableKvCount, keep);
        return true;
    }
}
