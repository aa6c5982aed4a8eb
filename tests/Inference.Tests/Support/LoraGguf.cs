using Inference.Engine.Gguf;

namespace Inference.Tests.Support;

/// <summary>
/// Writes a LoRA adapter GGUF with random weights for a base model, laid out as llama.cpp's
/// convert_lora_to_gguf.py writes one: general.type "adapter", adapter.type "lora", adapter.lora.alpha (float32),
/// and per adapted weight W [in, out] (ggml order) a pair W.lora_a [in, rank] and W.lora_b [rank, out].
/// </summary>
public sealed class LoraGguf
{
    private const uint F32 = 0;

    /// <summary>Adapted weights of every block: the attention projections.</summary>
    public static readonly string[] AttentionWeights = ["attn_q", "attn_k", "attn_v", "attn_output"];

    public int Rank { get; init; } = 4;
    public int Seed { get; init; } = 1;
    /// <summary>Half the width of the uniform range the values are drawn from.</summary>
    public float Magnitude { get; init; } = 0.5f;
    public string? Architecture { get; init; }
    /// <summary>Stored as float32, as llama.cpp requires; <see cref="AlphaAsFloat64"/> stores it as a double instead (llama.cpp aborts on it).</summary>
    public float? Alpha { get; init; }
    public bool AlphaAsFloat64 { get; init; }
    public string GeneralType { get; init; } = "adapter";
    /// <summary>More metadata or tensors, after the usual ones.</summary>
    public Action<GgufBuilder>? Extra { get; init; }
    /// <summary>Which base weights get a pair; by default the attention projections of every block.</summary>
    public Func<GgufTensorInfo, bool>? Adapts { get; init; }

    /// <summary>The adapter's bytes for the base model at <paramref name="basePath"/>.</summary>
    public byte[] Build(string basePath)
    {
        var baseModel = GgufFile.Read(basePath);
        var random = new Random(Seed);
        var builder = new GgufBuilder()
            .Add("general.type", GgufValueType.String, GeneralType)
            .Add("general.architecture", GgufValueType.String, Architecture ?? baseModel.Architecture)
            .Add("adapter.type", GgufValueType.String, "lora")
            .Add("adapter.lora.alpha", AlphaAsFloat64 ? GgufValueType.Float64 : GgufValueType.Float32, Alpha ?? (float)Rank);
        var adapts = Adapts ?? (t => t.Name.StartsWith("blk.", StringComparison.Ordinal) && AttentionWeights.Any(w => t.Name.EndsWith($".{w}.weight", StringComparison.Ordinal)));
        foreach (var weight in baseModel.Tensors.Where(adapts))
        {
            ulong input = weight.Dimensions[0], output = weight.Dimensions[1];
            builder.AddTensor(weight.Name + ".lora_a", F32, RandomFloats(random, input * (ulong)Rank), input, (ulong)Rank);
            builder.AddTensor(weight.Name + ".lora_b", F32, RandomFloats(random, (ulong)Rank * output), (ulong)Rank, output);
        }
        Extra?.Invoke(builder);
        return builder.Build();
    }

    private byte[] RandomFloats(Random random, ulong count)
    {
        var bytes = new byte[count * 4];
        for (ulong i = 0; i < count; i++)
            BitConverter.TryWriteBytes(bytes.AsSpan((int)(i * 4), 4), (random.NextSingle() * 2 - 1) * Magnitude);
        return bytes;
    }
}
