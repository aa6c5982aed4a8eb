using LLama;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// The batch-invariant mode's one change to a step (issue 18). On the CPU backend a row of a matrix product is not
/// always computed the same way: a micro-batch of one token takes the matrix-vector path (max |Δlogit| 0.003-0.005 on
/// stories260K; BatchVarianceLibraryTests), and quantized weights that llama.cpp repacks for the CPU (Q4_K: a 4-row
/// GEMM, with a matrix-vector kernel for the rows left over) compute a row differently when it is one of a block of
/// four or a leftover (max |Δlogit| 2.7e-5 on a Q4_K_M model padded to two tokens; QuantizedBatchVarianceTests).
/// With one KV stream per sequence llama.cpp splits a step into "equal" micro-batches: the same token count from each
/// of a run of consecutive sequence ids, so how a sequence's rows fall depends on what else is in the step. Padding
/// every sequence's part of the step to a multiple of <see cref="Quantum"/> tokens makes every micro-batch's
/// per-sequence count a multiple of four, so every row lies in a full block of four of its own sequence: each row is
/// computed as it is in a solo run padded the same way. The padding tokens sit at the sequence's next positions; the
/// causal mask hides them from the sequence's own rows, and their cells are removed right after the decode.
/// The rows that produce logits need the same care: llama.cpp computes the last layer only for them, so a sequence
/// that needs logits asks for them on its last four tokens in the step (its padding, or a prompt's last tokens),
/// which the equal split keeps in one micro-batch.
/// </summary>
internal static class StepPadding
{
    /// <summary>Every sequence's tokens in a step, and its outputs, come in multiples of this (the repacked GEMM's row block).</summary>
    public const int Quantum = 4;

    /// <summary>Pads every slot's tokens in the batch to a multiple of <see cref="Quantum"/>; returns the first padding cell of each, to remove after the decode.</summary>
    public static List<(LLamaSeqId Seq, int Position)> Pad(LLamaBatch batch, IReadOnlyList<SequenceSlot> slots)
    {
        var pads = new List<(LLamaSeqId, int)>();
        foreach (var slot in slots)
        {
            int missing = (Quantum - slot.TokensInStep % Quantum) % Quantum;
            if (missing == 0) continue;
            // Any token will do (the cells are thrown away): the one just added, which the vocabulary surely has.
            for (int i = 0; i < missing; i++) batch.Add(slot.KvTokens[^1], slot.Position + i, slot.SeqId, slot.LogitsIndex >= 0);
            pads.Add((slot.SeqId, slot.Position));
        }
        return pads;
    }

    /// <summary>
    /// Adds a prompt's last chunk with logits for its last tokens: as many as the chunk has beyond a multiple of
    /// <see cref="Quantum"/> (all four when it is one), so that with <see cref="Pad"/>'s padding the sequence has
    /// exactly <see cref="Quantum"/> outputs. Returns the last token's index.
    /// </summary>
    public static int AddLastChunk(LLamaBatch batch, ReadOnlySpan<LLamaToken> chunk, int position, LLamaSeqId seq)
    {
        int outputs = (chunk.Length - 1) % Quantum + 1;
        if (chunk.Length > outputs) batch.AddRange(chunk[..^outputs], position, seq, false);
        int index = -1;
        for (int i = chunk.Length - outputs; i < chunk.Length; i++) index = batch.Add(chunk[i], position + i, seq, true);
        return index;
    }
}
