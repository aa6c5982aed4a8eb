using Inference.Engine.Gguf;
using LLama.Native;

namespace Inference.Engine.Backend;

/// <summary>
/// Flash attention and the KV cache's element type for one model, resolved from the settings
/// (<c>Inference:FlashAttention</c>, <c>Inference:KvCacheType</c>) the way Ollama does: a quantized
/// cache needs flash attention (llama.cpp cannot quantize the V cache without it) and attention heads
/// whose width is a multiple of the type's 32-value block; where either is missing the cache stays
/// F16 and <see cref="Warning"/> says why.
/// </summary>
public sealed record KvCacheSettings
{
    /// <summary>The values Inference:FlashAttention accepts (OLLAMA_FLASH_ATTENTION maps 1/true and 0/false onto on/off).</summary>
    public static readonly IReadOnlyList<string> FlashAttentionValues = ["auto", "on", "off"];

    /// <summary>The values Inference:KvCacheType accepts (OLLAMA_KV_CACHE_TYPE), with their ggml type.</summary>
    public static readonly IReadOnlyDictionary<string, GGMLType> CacheTypes = new Dictionary<string, GGMLType>(StringComparer.OrdinalIgnoreCase)
    {
        ["f16"] = GGMLType.GGML_TYPE_F16,
        ["q8_0"] = GGMLType.GGML_TYPE_Q8_0,
        ["q4_0"] = GGMLType.GGML_TYPE_Q4_0,
    };

    /// <summary>true/false = on/off; null = llama.cpp decides (it turns it on where the device supports it, as on every CPU).</summary>
    public bool? FlashAttention { get; init; }
    /// <summary>Element type of both the K and the V cache.</summary>
    public GGMLType CacheType { get; init; } = GGMLType.GGML_TYPE_F16;
    /// <summary>The cache type's name as the settings spell it (f16, q8_0, q4_0).</summary>
    public string CacheTypeName { get; init; } = "f16";
    /// <summary>Why the requested cache type was not used, or null.</summary>
    public string? Warning { get; init; }

    public string FlashAttentionName => FlashAttention switch { true => "on", false => "off", null => "auto" };

    /// <summary>The settings for <paramref name="model"/> (null: before a model is known, as for the defaults).</summary>
    public static KvCacheSettings Resolve(EngineOptions options, GgufFile? model)
    {
        var flash = options.FlashAttention.Trim().ToLowerInvariant() switch
        {
            "on" => true,
            "off" => (bool?)false,
            _ => null,
        };
        var name = options.KvCacheType.Trim().ToLowerInvariant();
        if (name == "f16" || !CacheTypes.TryGetValue(name, out var type))
            return new KvCacheSettings { FlashAttention = flash };
        if (flash == false)
            return new KvCacheSettings
            {
                FlashAttention = false,
                Warning = $"Inference:KvCacheType={name} needs flash attention, which Inference:FlashAttention=off turns off: the KV cache stays f16",
            };
        if (model is not null && HeadWidths(model) is var (k, v) && (k % 32 != 0 || v % 32 != 0))
            return new KvCacheSettings
            {
                FlashAttention = flash,
                Warning = $"Inference:KvCacheType={name} needs attention heads of a multiple of 32 values; this model's are {k} (K) and {v} (V): the KV cache stays f16",
            };
        // A quantized V cache needs flash attention, so "auto" asks for it rather than leaving llama.cpp to refuse the context.
        return new KvCacheSettings { FlashAttention = true, CacheType = type, CacheTypeName = name };
    }

    /// <summary>Values per attention head of K and of V (GGUF key_length / value_length, else embedding / heads).</summary>
    private static (long K, long V) HeadWidths(GgufFile gguf)
    {
        var arch = gguf.Architecture;
        long heads = gguf.GetInt($"{arch}.attention.head_count") ?? 0;
        long embd = gguf.GetInt($"{arch}.embedding_length") ?? 0;
        long fallback = heads > 0 ? embd / heads : 0;
        return (gguf.GetInt($"{arch}.attention.key_length") ?? fallback, gguf.GetInt($"{arch}.attention.value_length") ?? fallback);
    }
}
