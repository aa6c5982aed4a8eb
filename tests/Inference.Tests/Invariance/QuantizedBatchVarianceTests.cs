using Inference.ModelGen;
using LLama;
using LLama.Common;
using LLama.Native;
using Xunit.Abstractions;

namespace Inference.Tests.Invariance;

/// <summary>
/// Issue 18 on quantized weights, on the bare library: real models are Q4_K_M, Q4_0 or Q8_0, whose CPU path may
/// repack the weights (CPU_REPACK) and compute a micro-batch's rows with a 4-row GEMM plus a matrix-vector kernel for
/// the rows left over, so a row's sums could depend on its place in the micro-batch. Sequence A's logits are compared
/// bit for bit alone and beside other sequences, unpadded and padded the way the batch-invariant mode pads
/// (StepPadding), on the "tiny" preset of the project's generator (256-wide: a multiple of the k-quants' 256 block).
/// </summary>
public sealed class QuantizedBatchVarianceTests(QuantizedTinyModels models, ITestOutputHelper output) : IClassFixture<QuantizedTinyModels>
{
    private const int Steps = 16;
    private const string PromptA = "Once upon a time there was a little girl named Lily.";
    private const string PromptB = "Tom and Sue went to the park and they saw a big dog and a small cat in the sun.";

    /// <summary>
    /// A's prompt, then Steps greedy decode steps of A; `others` more sequences (B's prompt prefilled in each) decode
    /// one token each beside every step of A. With `pad` every sequence's part of a step is padded to `pad` tokens
    /// (tokens at its next positions, removed after the decode), as the mode pads to an even count.
    /// </summary>
    private static List<float[]> RunA(LLamaWeights weights, int others, int pad, int threads = 2)
    {
        using var context = weights.CreateContext(new ModelParams(string.Empty)
        {
            ContextSize = 4 * 512, SeqMax = 4, KVUnified = false, BatchSize = 512, UBatchSize = 512,
            Threads = threads, BatchThreads = threads,
        });
        var a = context.NativeHandle.Tokenize(PromptA, true, false, System.Text.Encoding.UTF8);
        var b = context.NativeHandle.Tokenize(PromptB, true, false, System.Text.Encoding.UTF8);
        var batch = new LLamaBatch();
        for (int s = 1; s <= others; s++)
        {
            batch.Clear();
            batch.AddRange(b, 0, (LLamaSeqId)s, false);
            Assert.Equal(DecodeResult.Ok, context.NativeHandle.Decode(batch));
        }
        batch.Clear();
        int at = batch.AddRange(a, 0, (LLamaSeqId)0, true);
        Assert.Equal(DecodeResult.Ok, context.NativeHandle.Decode(batch));
        var logits = new List<float[]> { context.NativeHandle.GetLogitsIth(at).ToArray() };
        for (int step = 0; step < Steps; step++)
        {
            var last = logits[^1];
            var token = (LLamaToken)Array.IndexOf(last, last.Max());
            batch.Clear();
            int index = AddPadded(batch, token, a.Length + step, 0, pad);
            for (int s = 1; s <= others; s++) AddPadded(batch, b[(step + s) % b.Length], b.Length + step, s, pad);
            Assert.Equal(DecodeResult.Ok, context.NativeHandle.Decode(batch));
            context.NativeHandle.MemorySequenceRemove((LLamaSeqId)0, a.Length + step + 1, -1);
            for (int s = 1; s <= others; s++) context.NativeHandle.MemorySequenceRemove((LLamaSeqId)s, b.Length + step + 1, -1);
            logits.Add(context.NativeHandle.GetLogitsIth(index).ToArray());
        }
        return logits;
    }

    /// <summary>The real token at `position`, then pad-1 copies at the following positions (all with logits, as the mode asks for them on a sequence's last two tokens).</summary>
    private static int AddPadded(LLamaBatch batch, LLamaToken token, int position, int seq, int pad)
    {
        int index = batch.Add(token, position, (LLamaSeqId)seq, true);
        for (int i = 1; i < pad; i++) batch.Add(token, position + i, (LLamaSeqId)seq, true);
        return index;
    }

    private static (int FirstStep, float MaxDelta) Compare(List<float[]> x, List<float[]> y)
    {
        int first = -1;
        float max = 0;
        for (int s = 0; s < x.Count; s++)
            for (int i = 0; i < x[s].Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(x[s][i]) != BitConverter.SingleToInt32Bits(y[s][i]) && first < 0) first = s;
                max = Math.Max(max, Math.Abs(x[s][i] - y[s][i]));
            }
        return (first, max);
    }

    private string Report(string name, (int FirstStep, float MaxDelta) r)
    {
        var line = $"  {name}: first differing step {(r.FirstStep < 0 ? "none" : r.FirstStep.ToString())}, max |dlogit| {r.MaxDelta:G3}";
        output.WriteLine(line);
        return line;
    }

    [Theory]
    [InlineData("q4_k_m")]
    [InlineData("q4_0")]
    [InlineData("q8_0")]
    public void Padded_sequence_is_identical_alone_and_beside_others(string quant)
    {
        var weights = models.Get(quant);
        output.WriteLine($"tiny {quant} ({Steps} decode steps)");
        var alone = RunA(weights, 0, 1);
        Assert.Equal((-1, 0f), Compare(alone, RunA(weights, 0, 1))); // a run is reproducible
        Report("1 token alone vs beside 1 other sequence", Compare(alone, RunA(weights, 1, 1)));
        Report("1 token alone vs beside 3 other sequences", Compare(alone, RunA(weights, 3, 1)));
        foreach (int pad in new[] { 2, 4 })
        {
            var paddedAlone = RunA(weights, 0, pad);
            var beside1 = Compare(paddedAlone, RunA(weights, 1, pad));
            var beside3 = Compare(paddedAlone, RunA(weights, 3, pad));
            Report($"padded to {pad}: alone vs beside 1 other sequence", beside1);
            Report($"padded to {pad}: alone vs beside 3 other sequences", beside3);
            if (pad == 4)
            {
                // What the mode relies on (StepPadding.Quantum): padded to a multiple of four, a sequence's rows do not
                // depend on its neighbours. Padding to two is enough for Q4_0 and Q8_0 here but not for Q4_K_M (measured
                // max |dlogit| 2.7e-5 from step 5): its repacked 4-row GEMM and leftover-row kernel round differently.
                Assert.Equal((-1, 0f), beside1);
                Assert.Equal((-1, 0f), beside3);
            }
        }
    }
}

/// <summary>
/// The generator's "tiny" preset (4 layers, 256 wide: a multiple of the k-quants' 256-value block) quantized to each
/// type, generated once next to the test assembly (no weights committed), and loaded once per class.
/// </summary>
public sealed class QuantizedTinyModels : IDisposable
{
    private static readonly Lock Gate = new();
    private readonly Dictionary<string, LLamaWeights> _weights = [];

    public static string PathOf(string quant)
    {
        lock (Gate)
        {
            var path = Path.Combine(AppContext.BaseDirectory, $"invariance-tiny-{quant}.gguf");
            if (File.Exists(path)) return path;
            var f16 = Path.Combine(AppContext.BaseDirectory, "invariance-tiny-f16.gguf");
            if (!File.Exists(f16))
            {
                ModelGenerator.WriteF16(ModelPreset.All["tiny"], f16 + ".tmp", seed: 18);
                File.Move(f16 + ".tmp", f16, overwrite: true);
            }
            ModelGenerator.Quantize(f16, path + ".tmp", quant);
            File.Move(path + ".tmp", path, overwrite: true);
            return path;
        }
    }

    public LLamaWeights Get(string quant)
    {
        lock (Gate)
        {
            if (!_weights.TryGetValue(quant, out var w))
                _weights[quant] = w = LLamaWeights.LoadFromFile(new ModelParams(PathOf(quant)) { ContextSize = 2048, Threads = 2, GpuLayerCount = 0 });
            return w;
        }
    }

    public void Dispose()
    {
        foreach (var w in _weights.Values) w.Dispose();
    }
}
