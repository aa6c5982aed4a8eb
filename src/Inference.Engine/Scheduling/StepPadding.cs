using LLama;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// The batch-invariant mode's one change to a step (issue 18). On the CPU backend llama.cpp computes a row the same
/// way in every micro-batch of two or more tokens, but a micro-batch of one token takes the matrix-vector path, whose
/// sums round differently (max |Δlogit| 0.003-0.005 on stories260K; BatchVarianceLibraryTests). With one KV stream per
/// sequence llama.cpp splits a step into "equal" micro-batches: the same token count from each of a run of
/// consecutive sequence ids, so whether a sequence's token ends up alone depends on what else is in the step (which
/// ids run, how long their prompt chunks are). Padding every sequence's part of the step to an even token count makes
/// every micro-batch's per-sequence count even, so none holds a single token: each row is computed as it is in a solo
/// run padded the same way. The padding token sits at the sequence's next position without logits; the causal mask
/// hides it from the sequence's own rows, and its cell is removed right after the decode.
/// The rows that produce logits need the same care: llama.cpp computes the last layer only for them, so a step with
/// one output takes the matrix-vector path there (max |Δlogit| 3.8e-6). A sequence that needs logits asks for them
/// on its last two tokens in the step (the padding token, or a prompt's second-to-last token), which the even split
/// keeps in one micro-batch: no micro-batch has a single output.
/// </summary>
internal static class StepPadding
{
    /// <summary>Adds a padding token to every slot with an odd number of tokens in the batch; returns the cells to remove after the decode.</summary>
    public static List<(LLamaSeqId Seq, int Position)> Pad(LLamaBatch batch, IReadOnlyList<SequenceSlot> slots)
    {
        var pads = new List<(LLamaSeqId, int)>();
        foreach (var slot in slots)
        {
            if (slot.TokensInStep % 2 == 0) continue;
            // Any token will do (the cell is thrown away): the one just added, which the vocabulary surely has.
            batch.Add(slot.KvTokens[^1], slot.Position, slot.SeqId, slot.LogitsIndex >= 0);
            pads.Add((slot.SeqId, slot.Position));
        }
        return pads;
    }

    /// <summary>Adds a prompt's last chunk (an even number of tokens) with logits for its last two tokens; returns the last one's index.</summary>
    public static int AddLastChunk(LLamaBatch batch, ReadOnlySpan<LLamaToken> chunk, int position, LLamaSeqId seq)
    {
        if (chunk.Length > 2) batch.AddRange(chunk[..^2], position, seq, false);
        batch.Add(chunk[^2], position + chunk.Length - 2, seq, true);
        return batch.Add(chunk[^1], position + chunk.Length - 1, seq, true);
    }
}
