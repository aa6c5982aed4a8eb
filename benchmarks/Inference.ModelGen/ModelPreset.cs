namespace Inference.ModelGen;

/// <summary>Hyper-parameters of a llama-architecture model; only shapes matter for decode cost.</summary>
public sealed record ModelPreset(
    string Name,
    int VocabSize,
    int EmbeddingLength,
    int BlockCount,
    int HeadCount,
    int HeadCountKv,
    int FeedForwardLength,
    float RopeFreqBase,
    int ContextLength,
    float RmsEpsilon,
    bool TiedEmbeddings)
{
    /// <summary>A Jinja chat template to store as tokenizer.chat_template (none by default).</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Marks three byte tokens as fill-in-the-middle prefix/suffix/middle tokens (for FIM tests).</summary>
    public bool FimTokens { get; init; }

    public int HeadDim => EmbeddingLength / HeadCount;
    public int EmbeddingLengthKv => HeadDim * HeadCountKv;

    public static readonly IReadOnlyDictionary<string, ModelPreset> All = new Dictionary<string, ModelPreset>
    {
        ["llama3.2-1b"] = new("llama3.2-1b", 128256, 2048, 16, 32, 8, 8192, 500000f, 131072, 1e-5f, TiedEmbeddings: true),
        ["codellama-7b"] = new("codellama-7b", 32016, 4096, 32, 32, 32, 11008, 1000000f, 16384, 1e-5f, TiedEmbeddings: false),
        ["tiny"] = new("tiny", 32000, 256, 4, 8, 4, 768, 10000f, 2048, 1e-5f, TiedEmbeddings: false),
        ["small"] = new("small", 32000, 768, 12, 12, 4, 2048, 10000f, 2048, 1e-5f, TiedEmbeddings: false),
    };

    /// <summary>
    /// The tensors llama.cpp's llama architecture loads, with GGUF dims innermost-first (ne0 first).
    /// 1-D tensors are norms (F32); 2-D ones are weight matrices (F16).
    /// </summary>
    public IReadOnlyList<TensorSpec> Tensors()
    {
        int e = EmbeddingLength, kv = EmbeddingLengthKv, ff = FeedForwardLength;
        var list = new List<TensorSpec> { new("token_embd.weight", [e, VocabSize]) };
        for (var i = 0; i < BlockCount; i++)
        {
            list.Add(new($"blk.{i}.attn_norm.weight", [e]));
            list.Add(new($"blk.{i}.attn_q.weight", [e, e]));
            list.Add(new($"blk.{i}.attn_k.weight", [e, kv]));
            list.Add(new($"blk.{i}.attn_v.weight", [e, kv]));
            list.Add(new($"blk.{i}.attn_output.weight", [e, e]));
            list.Add(new($"blk.{i}.ffn_norm.weight", [e]));
            list.Add(new($"blk.{i}.ffn_gate.weight", [e, ff]));
            list.Add(new($"blk.{i}.ffn_up.weight", [e, ff]));
            list.Add(new($"blk.{i}.ffn_down.weight", [ff, e]));
        }
        list.Add(new("output_norm.weight", [e]));
        // Tied embeddings (Llama 3.2): llama.cpp reuses token_embd when output.weight is absent.
        if (!TiedEmbeddings) list.Add(new("output.weight", [e, VocabSize]));
        return list;
    }
}

public sealed record TensorSpec(string Name, long[] Dims)
{
    public bool IsNorm => Dims.Length == 1;
    public GgmlType Type => IsNorm ? GgmlType.F32 : GgmlType.F16;
    public long Elements => Dims.Aggregate(1L, (a, d) => a * d);
    public long Bytes => Elements * (Type == GgmlType.F32 ? 4 : 2);
}

public enum GgmlType : uint { F32 = 0, F16 = 1 }
