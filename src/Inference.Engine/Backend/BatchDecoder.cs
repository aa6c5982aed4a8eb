using System.Runtime.CompilerServices;
using LLama.Native;

namespace Inference.Engine.Backend;

/// <summary>
/// Decodes a <see cref="LLamaBatch"/> the way <see cref="SafeLLamaContextHandle.Decode(LLamaBatch)"/> does (same
/// arrays, same llama_decode, under LLamaSharp's same process-wide lock), without its cost per call: LLamaSharp
/// 0.30.0 pins every array of the batch's whole capacity (one GC handle per token slot, 128 to the step budget,
/// and a growing list of them) whatever the tokens in it, about 12 KB of garbage and 130-520 pinned handles per
/// step, which is most of what a generated token allocated. Here the token arrays are fixed for the call and the
/// sequence-id pointers llama.cpp reads live in pinned arrays made once. LLamaSharp has no public way in: the
/// batch's arrays, llama_decode and the lock are reached by name (<see cref="UnsafeAccessorAttribute"/>), checked
/// by the runner tests against the LLamaSharp version in Directory.Packages.props.
/// </summary>
internal sealed unsafe class BatchDecoder
{
    // One sequence id per token and a pointer to each: llama.cpp's seq_id is an array of arrays.
    private LLamaSeqId[] _ids = [];
    private IntPtr[] _idPointers = [];

    public DecodeResult Decode(SafeLLamaContextHandle context, LLamaBatch batch)
    {
        int n = batch.TokenCount;
        if (n == 0) return DecodeResult.Ok;
        var counts = SequenceIdCounts(batch);
        // A token in several sequences at once (not something the scheduler adds) takes LLamaSharp's own path.
        for (int i = 0; i < n; i++)
            if (counts[i] != 1) return context.Decode(batch);

        EnsureCapacity(n);
        var ids = SequenceIds(batch);
        for (int i = 0; i < n; i++) _ids[i] = ids[i][0];
        fixed (LLamaToken* tokens = Tokens(batch))
        fixed (LLamaPos* positions = Positions(batch))
        fixed (int* idCounts = counts)
        fixed (byte* logits = Logits(batch))
        fixed (IntPtr* idPointers = _idPointers)
        {
            var native = new LLamaNativeBatch
            {
                n_tokens = n,
                tokens = tokens,
                pos = positions,
                n_seq_id = idCounts,
                seq_id = (LLamaSeqId**)idPointers,
                logits = logits,
            };
            lock (GlobalInferenceLock(null))
                return (DecodeResult)LlamaDecode(null, context, native);
        }
    }

    private void EnsureCapacity(int n)
    {
        if (_ids.Length >= n) return;
        // Pinned for good (the pinned object heap), so the pointers into _ids stay valid without a handle per call.
        _ids = GC.AllocateArray<LLamaSeqId>(Math.Max(n, 2 * _ids.Length), pinned: true);
        _idPointers = GC.AllocateArray<IntPtr>(_ids.Length, pinned: true);
        fixed (LLamaSeqId* first = _ids)
            for (int i = 0; i < _ids.Length; i++) _idPointers[i] = (IntPtr)(first + i);
    }

    /// <summary>Each token's (first) sequence id, in batch order: what llama.cpp forms its micro-batches from (tests look at it).</summary>
    internal static int[] SequenceIdsOf(LLamaBatch batch)
    {
        var ids = SequenceIds(batch);
        var result = new int[batch.TokenCount];
        for (int i = 0; i < result.Length; i++) result[i] = ids[i][0].Value;
        return result;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_tokens")]
    private static extern ref LLamaToken[] Tokens(LLamaBatch batch);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_positions")]
    private static extern ref LLamaPos[] Positions(LLamaBatch batch);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_sequenceIdCount")]
    private static extern ref int[] SequenceIdCounts(LLamaBatch batch);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_sequenceIds")]
    private static extern ref LLamaSeqId[][] SequenceIds(LLamaBatch batch);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_logits")]
    private static extern ref byte[] Logits(LLamaBatch batch);

    [UnsafeAccessor(UnsafeAccessorKind.StaticField, Name = "GlobalInferenceLock")]
    private static extern ref object GlobalInferenceLock(SafeLLamaContextHandle? type);

    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "llama_decode")]
    private static extern int LlamaDecode(SafeLLamaContextHandle? type, SafeLLamaContextHandle context, LLamaNativeBatch batch);
}
