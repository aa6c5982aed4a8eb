using Inference.Engine.Gguf;

namespace Inference.Engine.Models;

/// <summary>
/// Memory a loaded model needs beyond its weights, from the GGUF's hyper-parameters. The products
/// saturate at long.MaxValue: a GGUF can declare any sizes, and an overflow must not turn into a
/// small number that passes a memory check.
/// </summary>
public static class MemoryEstimate
{
    /// <summary>
    /// K and V for every layer and every cell: 2 * layers * cells * the bytes of kv_width values of the
    /// cache's ggml type (F16 by default: 2 bytes a value; Q8_0: 34 bytes per 32 values; Q4_0: 18 per 32).
    /// </summary>
    public static long KvCacheBytes(GgufFile gguf, int cells, uint cacheType = 1)
    {
        var arch = gguf.Architecture;
        long layers = gguf.GetInt($"{arch}.block_count") ?? 0;
        long embd = gguf.GetInt($"{arch}.embedding_length") ?? 0;
        long heads = gguf.GetInt($"{arch}.attention.head_count") ?? 0;
        long kvHeads = gguf.GetInt($"{arch}.attention.head_count_kv") ?? heads;
        if (layers <= 0 || embd <= 0 || heads <= 0 || kvHeads < 0) return 0;
        long kvWidth = Multiply(embd, kvHeads) / heads;
        if (!GgmlTypes.TryGetLayout(cacheType, out var block, out var blockBytes)) return 0;
        long rowBytes = Multiply((kvWidth + block - 1) / block, blockBytes);
        return Multiply(2, layers, cells, rowBytes);
    }

    /// <summary>
    /// llama.cpp's compute buffer for one context, roughly (within a small factor of what it logs):
    /// the F16 attention mask of one micro-batch (KV cells of a stream × micro-batch tokens), plus that
    /// micro-batch's F32 activations and, for generation, its logits. The mask makes it grow with
    /// num_ctx × the micro-batch, so an embedding context, whose micro-batch is its whole context,
    /// grows with num_ctx squared (262144 cells ask for 128 GiB).
    /// </summary>
    public static long ComputeBytes(GgufFile gguf, long cellsPerStream, long microBatch, bool logits)
    {
        var arch = gguf.Architecture;
        long embd = Math.Max(0, gguf.GetInt($"{arch}.embedding_length") ?? 0);
        long ffn = Math.Max(0, gguf.GetInt($"{arch}.feed_forward_length") ?? 0);
        long vocab = logits ? VocabularySize(gguf) : 0;
        long mask = Multiply(cellsPerStream, microBatch, 2);
        long activations = Multiply(microBatch, Add(Multiply(2, ffn), Multiply(4, embd), vocab), 4);
        return Add(mask, activations);
    }

    /// <summary>Rows of the token embedding matrix (the vocabulary size), or 0 when the GGUF has none.</summary>
    private static long VocabularySize(GgufFile gguf) =>
        gguf.Tensors.FirstOrDefault(t => t.Name == "token_embd.weight") is { Dimensions.Length: >= 2 } t
            ? (long)Math.Min(t.Dimensions[1], long.MaxValue)
            : 0;

    internal static long Multiply(params long[] factors)
    {
        long product = 1;
        foreach (var f in factors)
        {
            if (f <= 0) return 0;
            product = product > long.MaxValue / f ? long.MaxValue : product * f;
        }
        return product;
    }

    internal static long Add(params long[] terms)
    {
        long sum = 0;
        foreach (var t in terms) sum = t > long.MaxValue - sum ? long.MaxValue : sum + t;
        return sum;
    }
}
