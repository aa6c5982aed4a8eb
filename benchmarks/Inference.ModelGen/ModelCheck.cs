using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Inference.ModelGen;

/// <summary>Smoke-checks a generated GGUF with LLamaSharp: load, tokenize, prefill and a few greedy decode steps.</summary>
public static class ModelCheck
{
    public static void Run(string path, Action<string> log, int steps = 8)
    {
        var sw = Stopwatch.StartNew();
        var mp = new ModelParams(path) { ContextSize = 256, BatchSize = 64, GpuLayerCount = 0 };
        using var weights = LLamaWeights.LoadFromFile(mp);
        var m = weights.NativeHandle;
        log($"loaded in {sw.Elapsed.TotalSeconds:F1} s: {m.LayerCount} layers, n_embd {weights.EmbeddingSize}, " +
            $"vocab {m.Vocab.Count}, {m.ParameterCount / 1e9:F3} B params, {weights.SizeInBytes / 1e6:F0} MB");

        using var ctx = weights.CreateContext(mp);
        const string prompt = "the cat sat on the mat";
        var tokens = ctx.Tokenize(prompt, addBos: true, special: false);
        log($"\"{prompt}\" -> {tokens.Length} tokens [{string.Join(", ", tokens.Select(t => (int)t))}]");

        var batch = new LLamaBatch();
        for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], i, LLamaSeqId.Zero, i == tokens.Length - 1);
        sw.Restart();
        Expect(ctx.Decode(batch));
        log($"prefill: {sw.Elapsed.TotalMilliseconds:F0} ms");

        sw.Restart();
        var generated = new List<int>();
        for (var pos = tokens.Length; generated.Count < steps; pos++)
        {
            var logits = ctx.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            var next = 0;
            for (var i = 1; i < logits.Length; i++) if (logits[i] > logits[next]) next = i;
            generated.Add(next);
            batch.Clear();
            batch.Add((LLamaToken)next, pos, LLamaSeqId.Zero, true);
            Expect(ctx.Decode(batch));
        }
        log($"decoded {steps} tokens greedily at {steps / sw.Elapsed.TotalSeconds:F1} tok/s: [{string.Join(", ", generated)}]");
    }

    private static void Expect(DecodeResult r)
    {
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {r}");
    }
}
