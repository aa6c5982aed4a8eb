using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Tests.Support;

namespace Inference.Tests.Models;

/// <summary>The allowlist an adapter GGUF passes before llama.cpp loads it (the HTTP tests cover the common refusals).</summary>
public sealed class LoraAdapterCheckTests
{
    private static readonly GgufFile Stories = GgufFile.Read(TestModels.Stories260K);

    private static string? Check(LoraGguf adapter)
    {
        var bytes = adapter.Build(TestModels.Stories260K);
        using var stream = new MemoryStream(bytes);
        return LoraAdapterCheck.Problem(GgufFile.Read(stream, bytes.Length), Stories);
    }

    [Fact]
    public void Attention_feed_forward_and_output_pairs_of_the_right_shapes_pass()
    {
        Assert.Null(Check(new LoraGguf()));
        Assert.Null(Check(new LoraGguf { Adapts = t => t.Name is "output.weight" or "blk.4.ffn_down.weight" or "blk.0.ffn_gate.weight" }));
        // Norm vectors, which convert_lora_to_gguf.py may write and llama.cpp skips, are allowed alongside.
        Assert.Null(Check(new LoraGguf { Extra = b => b.AddTensor("blk.0.attn_norm.weight", 0, 64 * 4, 64) }));
        // An adapter without alpha is applied with the scale alone.
        Assert.Null(Check(new LoraGguf { Alpha = 0 }));
    }

    [Theory]
    [InlineData("q4_0", "tensor blk.0.attn_q.weight.lora_a has type Q4_0; adapters may use F32, F16, BF16 or Q8_0")]
    [InlineData("3d", "tensor blk.0.attn_q.weight.lora_a has 3 dimensions; LoRA matrices have 2")]
    [InlineData("suffix", "tensor blk.0.attn_q.weight.delta is neither a .lora_a nor a .lora_b matrix")]
    [InlineData("none", "the adapter has no lora_a/lora_b tensors")]
    [InlineData("transposed", "blk.0.attn_q.weight: lora_a [4, 64] and lora_b [64, 4] do not fit the base weight [64, 64] (expected [64, r] and [r, 64])")]
    [InlineData("norm-target", "blk.0.attn_norm.weight is not a weight adapters can change (attention and feed-forward projections and output.weight)")]
    public void Tensors_outside_the_allowlist_are_refused(string kind, string problem)
    {
        var adapter = kind switch
        {
            "q4_0" => new LoraGguf { Adapts = _ => false, Extra = b => b.AddTensor("blk.0.attn_q.weight.lora_a", 2, 64 / 32 * 18 * 32, 64, 32).AddTensor("blk.0.attn_q.weight.lora_b", 0, 32 * 64 * 4, 32, 64) },
            "3d" => new LoraGguf { Adapts = _ => false, Extra = b => b.AddTensor("blk.0.attn_q.weight.lora_a", 0, 64 * 4 * 4, 64, 4, 1) },
            "suffix" => new LoraGguf { Adapts = _ => false, Extra = b => b.AddTensor("blk.0.attn_q.weight.delta", 0, 64 * 4, 64) },
            "none" => new LoraGguf { Adapts = _ => false },
            "transposed" => new LoraGguf { Adapts = _ => false, Extra = b => b.AddTensor("blk.0.attn_q.weight.lora_a", 0, 64 * 4 * 4, 4, 64).AddTensor("blk.0.attn_q.weight.lora_b", 0, 64 * 4 * 4, 64, 4) },
            "norm-target" => new LoraGguf { Adapts = _ => false, Extra = b => b.AddTensor("blk.0.attn_norm.weight.lora_a", 0, 64 * 4 * 4, 64, 4).AddTensor("blk.0.attn_norm.weight.lora_b", 0, 4 * 4, 4, 1) },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        Assert.Equal(problem, Check(adapter));
    }

    [Fact]
    public void Keys_llama_cpp_reads_as_one_type_must_have_that_type()
    {
        // llama.cpp aborts reading general.type as a string when it is stored as another type.
        var typed = new GgufBuilder().Add("general.type", GgufValueType.UInt32, 1).Add("general.architecture", GgufValueType.String, "llama")
            .Add("adapter.type", GgufValueType.String, "lora").Build();
        using var stream = new MemoryStream(typed);
        Assert.Equal("general.type must be the string \"adapter\" (this GGUF is not an adapter)", LoraAdapterCheck.Problem(GgufFile.Read(stream, typed.Length), Stories));
        Assert.Equal("adapter.lora.alpha must be a finite float32", Check(new LoraGguf { Alpha = float.NaN }));
        Assert.Equal("adapter.lora.alpha must be a finite float32", Check(new LoraGguf { AlphaAsFloat64 = true }));
    }
}
