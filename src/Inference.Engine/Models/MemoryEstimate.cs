using Inference.Engine.Gguf;

namespace Inference.Engine.Models;

/// <summary>Memory a loaded model needs beyond its weights, from the GGUF's hyper-parameters.</summary>
public static class MemoryEstimate
{
    /// <summary>F16 K and V for every layer and every cell: 2 * layers * cells * kv_width * 2 bytes.</summary>
    public static long KvCacheBytes(GgufFile gguf, int cells)
    {
        var arch = gguf.Architecture;
        long layers = gguf.GetInt($"{arch}.block_count") ?? 0;
        long embd = gguf.GetInt($"{arch}.embedding_length") ?? 0;
        long heads = gguf.GetInt($"{arch}.attention.head_count") ?? 0;
        long kvHeads = gguf.GetInt($"{arch}.attention.head_count_kv") ?? heads;
        if (layers == 0 || embd == 0 || heads == 0) return 0;
        long kvWidth = embd * kvHeads / heads;
        return 2L * layers * cells * kvWidth * 2;
    }
}
