using Inference.Engine.Gguf;
using Inference.ModelGen;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Inference.Tests.Benchmarks;

/// <summary>
/// End-to-end check of the synthetic model generator on the tiny preset: write F16, quantize with
/// llama.cpp, read the header back, then load, tokenize, decode and sample with LLamaSharp.
/// </summary>
public sealed class ModelGenTests : IDisposable
{
    private static readonly ModelPreset Tiny = ModelPreset.All["tiny"];
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void F16_file_has_the_preset_shapes_and_metadata()
    {
        var path = Path.Combine(_dir, "tiny-f16.gguf");
        ModelGenerator.WriteF16(Tiny, path, seed: 3);

        var gguf = GgufFile.Read(path);
        Assert.Equal(3u, gguf.Version);
        AssertShapes(gguf);
        Assert.All(gguf.Tensors, t => Assert.Equal(t.Dimensions.Length == 1 ? 0u : 1u, t.Type));
        Assert.All(gguf.Tensors, t => Assert.Equal(0ul, t.Offset % GgufWriter.Alignment));
        Assert.Equal("llama", gguf.Metadata["general.architecture"]);
        Assert.Equal(32L, gguf.GetInt("llama.rope.dimension_count"));
        Assert.Equal(Tiny.VocabSize, ((IReadOnlyList<object?>)gguf.Metadata["tokenizer.ggml.tokens"]!).Count);

        var expectedData = Tiny.Tensors().Sum(t => (t.Bytes + 31) / 32 * 32);
        Assert.InRange(new FileInfo(path).Length, expectedData, expectedData + 2_000_000); // + header
    }

    [Fact]
    public void Same_seed_gives_identical_files()
    {
        string a = Path.Combine(_dir, "a.gguf"), b = Path.Combine(_dir, "b.gguf");
        ModelGenerator.WriteF16(Tiny, a, seed: 5);
        ModelGenerator.WriteF16(Tiny, b, seed: 5);
        Assert.True(File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b)));
    }

    [Theory]
    [InlineData("q4_k_m")]
    [InlineData("q8_0")]
    public void Quantized_model_loads_tokenizes_and_generates(string quant)
    {
        var f16 = Path.Combine(_dir, "tiny-f16.gguf");
        var path = Path.Combine(_dir, $"tiny-{quant}.gguf");
        ModelGenerator.WriteF16(Tiny, f16, seed: 1);
        ModelGenerator.Quantize(f16, path, quant);

        var gguf = GgufFile.Read(path);
        AssertShapes(gguf);
        Assert.Equal(0u, gguf.Tensors.Single(t => t.Name == "blk.0.attn_norm.weight").Type); // norms stay F32
        Assert.NotEqual(1u, gguf.Tensors.Single(t => t.Name == "blk.0.attn_q.weight").Type); // weights quantized

        var mp = new ModelParams(path) { ContextSize = 128, BatchSize = 64, GpuLayerCount = 0, Threads = 2 };
        using var weights = LLamaWeights.LoadFromFile(mp);
        Assert.Equal(Tiny.BlockCount, weights.NativeHandle.LayerCount);
        Assert.Equal(Tiny.EmbeddingLength, weights.EmbeddingSize);
        Assert.Equal(Tiny.VocabSize, weights.NativeHandle.Vocab.Count);
        Assert.Equal(Tiny.Tensors().Sum(t => t.Elements), (long)weights.NativeHandle.ParameterCount);

        using var ctx = weights.CreateContext(mp);
        // BOS + one token per word: the synthetic vocabulary knows these words whole.
        var tokens = ctx.Tokenize("the cat sat on the mat", addBos: true, special: false);
        Assert.Equal(7, tokens.Length);
        Assert.Equal(SyntheticVocab.Bos, (int)tokens[0]);
        Assert.Equal(tokens[1], tokens[5]); // "the" twice
        Assert.DoesNotContain(tokens[1..], t => (int)t == SyntheticVocab.Unk || (int)t < 259); // no byte fallback

        var batch = new LLamaBatch();
        for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], i, LLamaSeqId.Zero, i == tokens.Length - 1);
        Assert.Equal(DecodeResult.Ok, ctx.Decode(batch));
        var pos = tokens.Length;
        for (var step = 0; step < 4; step++)
        {
            var next = ArgMax(ctx.NativeHandle.GetLogitsIth(batch.TokenCount - 1));
            Assert.InRange(next, 0, Tiny.VocabSize - 1);
            batch.Clear();
            batch.Add((LLamaToken)next, pos++, LLamaSeqId.Zero, true);
            Assert.Equal(DecodeResult.Ok, ctx.Decode(batch));
        }
    }

    private static void AssertShapes(GgufFile gguf)
    {
        var expected = Tiny.Tensors();
        Assert.Equal(expected.Count, gguf.Tensors.Count);
        var actual = gguf.Tensors.ToDictionary(t => t.Name, t => t.Dimensions.Select(d => (long)d).ToArray());
        foreach (var t in expected) Assert.Equal(t.Dims, actual[t.Name]);
    }

    private static int ArgMax(Span<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        Assert.False(float.IsNaN(logits[best]));
        return best;
    }
}
