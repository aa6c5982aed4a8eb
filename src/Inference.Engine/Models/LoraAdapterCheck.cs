using System.Text.RegularExpressions;
using Inference.Engine.Gguf;
using Inference.Engine.Store;

namespace Inference.Engine.Models;

/// <summary>
/// Decides whether llama.cpp may be given a LoRA adapter GGUF for a base model. llama.cpp checks some of this
/// itself, but aborts the process on other mistakes (an alpha that is not a float32, a string key of another
/// type, shapes its matrix product cannot multiply), and an abort ends every user's requests. So an adapter
/// is held to what we know works, an allowlist: the adapter metadata convert_lora_to_gguf.py writes, pairs of
/// 2-D lora_a/lora_b tensors of plain float or Q8_0 types, each for a 2-D projection weight of the base model
/// that llama.cpp's graph applies adapters to, with the shapes its product needs.
/// </summary>
public static partial class LoraAdapterCheck
{
    /// <summary>Adapters one model may apply at once (Ollama creates models with one).</summary>
    public const int MaxAdapters = 4;

    /// <summary>Tensor types an adapter's matrices may have: F32, F16, Q8_0, BF16.</summary>
    private static readonly HashSet<uint> AllowedTypes = [0, 1, 8, 30];

    /// <summary>Base weights llama.cpp multiplies through its LoRA-aware product (build_lora_mm) in llama-style graphs.</summary>
    [GeneratedRegex(@"^(blk\.[0-9]{1,5}\.(attn_q|attn_k|attn_v|attn_qkv|attn_output|ffn_gate|ffn_up|ffn_down)|output)\.weight$")]
    private static partial Regex AdaptableWeight();

    private const string LoraA = ".lora_a";
    private const string LoraB = ".lora_b";
    /// <summary>Norm vectors that convert_lora_to_gguf.py may write; llama.cpp skips them.</summary>
    private const string Norm = "_norm.weight";

    /// <summary>What is wrong with <paramref name="adapter"/> as a LoRA for <paramref name="baseModel"/>, or null when llama.cpp may load it.</summary>
    public static string? Problem(GgufFile adapter, GgufFile baseModel)
    {
        if (StringValue(adapter, "general.type") is not "adapter")
            return "general.type must be the string \"adapter\" (this GGUF is not an adapter)";
        if (StringValue(adapter, "adapter.type") is not "lora")
            return "adapter.type must be the string \"lora\" (only LoRA adapters are supported)";
        var architecture = StringValue(adapter, "general.architecture");
        if (string.IsNullOrEmpty(architecture) || architecture != baseModel.Architecture)
            return $"the adapter's architecture '{Echo.Bounded(architecture ?? "")}' does not match the base model's '{Echo.Bounded(baseModel.Architecture)}'";
        if (adapter.MetadataTypes.TryGetValue("adapter.lora.alpha", out var alphaType) &&
            (alphaType != GgufValueType.Float32 || adapter.Metadata["adapter.lora.alpha"] is not double alpha || !double.IsFinite(alpha)))
            return "adapter.lora.alpha must be a finite float32";
        if (adapter.Metadata.ContainsKey("adapter.alora.invocation_tokens"))
            return "activated LoRA adapters (adapter.alora.invocation_tokens) are not supported";

        var baseTensors = baseModel.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var pairs = new Dictionary<string, (GgufTensorInfo? A, GgufTensorInfo? B)>(StringComparer.Ordinal);
        foreach (var tensor in adapter.Tensors)
        {
            var name = tensor.Name;
            if (name.EndsWith(Norm, StringComparison.Ordinal)) continue;
            bool isA = name.EndsWith(LoraA, StringComparison.Ordinal);
            if (!isA && !name.EndsWith(LoraB, StringComparison.Ordinal))
                return $"tensor {Echo.Bounded(name)} is neither a {LoraA} nor a {LoraB} matrix";
            if (!AllowedTypes.Contains(tensor.Type))
                return $"tensor {Echo.Bounded(name)} has type {tensor.TypeName}; adapters may use F32, F16, BF16 or Q8_0";
            if (tensor.Dimensions.Length != 2)
                return $"tensor {Echo.Bounded(name)} has {tensor.Dimensions.Length} dimensions; LoRA matrices have 2";
            var weight = name[..^LoraA.Length];
            pairs.TryGetValue(weight, out var pair);
            pairs[weight] = isA ? pair with { A = tensor } : pair with { B = tensor };
        }
        if (pairs.Count == 0) return "the adapter has no lora_a/lora_b tensors";

        foreach (var (weight, (a, b)) in pairs)
        {
            if (a is null || b is null)
                return $"the adapter has {(a is null ? LoraB : LoraA)} but no {(a is null ? LoraA : LoraB)} for {Echo.Bounded(weight)}";
            if (!AdaptableWeight().IsMatch(weight))
                return $"{Echo.Bounded(weight)} is not a weight adapters can change (attention and feed-forward projections and output.weight)";
            if (!baseTensors.TryGetValue(weight, out var target))
                return $"the base model has no tensor {Echo.Bounded(weight)} (is the adapter for another model?)";
            if (target.Dimensions.Length != 2)
                return $"the base model's {Echo.Bounded(weight)} is not a matrix";
            // llama.cpp computes W x + B (A x): A is [in, rank], B is [rank, out], W is [in, out] (ggml's order, rows first).
            ulong input = target.Dimensions[0], output = target.Dimensions[1], rank = a.Dimensions[1];
            if (a.Dimensions[0] != input || b.Dimensions[1] != output || b.Dimensions[0] != rank || rank == 0)
                return $"{Echo.Bounded(weight)}: lora_a [{string.Join(", ", a.Dimensions)}] and lora_b [{string.Join(", ", b.Dimensions)}] " +
                       $"do not fit the base weight [{input}, {output}] (expected [{input}, r] and [r, {output}])";
        }
        return null;
    }

    /// <summary>A metadata value only when it is stored as a string: llama.cpp aborts reading these keys as strings otherwise.</summary>
    private static string? StringValue(GgufFile gguf, string key) =>
        gguf.MetadataTypes.TryGetValue(key, out var type) && type == GgufValueType.String ? gguf.GetString(key) : null;
}
