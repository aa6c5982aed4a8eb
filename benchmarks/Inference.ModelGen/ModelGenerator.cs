using System.Diagnostics;
using LLama;
using LLama.Native;

namespace Inference.ModelGen;

/// <summary>Writes an F16 GGUF with random weights for a preset, and quantizes it with llama.cpp.</summary>
public static class ModelGenerator
{
    /// <summary>Token ids used as FIM markers when a preset asks for them (byte tokens nobody types).</summary>
    public const uint FimPrefix = 3, FimSuffix = 4, FimMiddle = 5;

    /// <summary>Writes the F16 model; returns the file size in bytes.</summary>
    public static long WriteF16(ModelPreset p, string path, int seed, Action<string>? log = null)
    {
        var vocab = SyntheticVocab.Create(p.VocabSize);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using (var g = new GgufWriter(fs))
        {
            g.AddString("general.architecture", "llama");
            g.AddString("general.name", $"synthetic-{p.Name}");
            g.AddUInt32("general.file_type", 1); // LLAMA_FTYPE_MOSTLY_F16
            g.AddUInt32("llama.context_length", (uint)p.ContextLength);
            g.AddUInt32("llama.embedding_length", (uint)p.EmbeddingLength);
            g.AddUInt32("llama.block_count", (uint)p.BlockCount);
            g.AddUInt32("llama.feed_forward_length", (uint)p.FeedForwardLength);
            g.AddUInt32("llama.attention.head_count", (uint)p.HeadCount);
            g.AddUInt32("llama.attention.head_count_kv", (uint)p.HeadCountKv);
            g.AddFloat32("llama.rope.freq_base", p.RopeFreqBase);
            g.AddFloat32("llama.attention.layer_norm_rms_epsilon", p.RmsEpsilon);
            g.AddUInt32("llama.rope.dimension_count", (uint)p.HeadDim);
            g.AddUInt32("llama.vocab_size", (uint)p.VocabSize);
            g.AddString("tokenizer.ggml.model", "llama");
            g.AddStringArray("tokenizer.ggml.tokens", vocab.Tokens);
            g.AddFloat32Array("tokenizer.ggml.scores", vocab.Scores);
            g.AddInt32Array("tokenizer.ggml.token_type", vocab.TokenTypes);
            g.AddUInt32("tokenizer.ggml.bos_token_id", SyntheticVocab.Bos);
            g.AddUInt32("tokenizer.ggml.eos_token_id", SyntheticVocab.Eos);
            g.AddUInt32("tokenizer.ggml.unknown_token_id", SyntheticVocab.Unk);
            g.AddBool("tokenizer.ggml.add_bos_token", true);
            g.AddBool("tokenizer.ggml.add_eos_token", false);
            if (p.ChatTemplate is { } template) g.AddString("tokenizer.chat_template", template);
            if (p.FimTokens)
            {
                g.AddUInt32("tokenizer.ggml.fim_pre_token_id", FimPrefix);
                g.AddUInt32("tokenizer.ggml.fim_suf_token_id", FimSuffix);
                g.AddUInt32("tokenizer.ggml.fim_mid_token_id", FimMiddle);
            }
            foreach (var t in p.Tensors()) g.AddTensor(t);
            g.WriteHeader();

            var rng = new RandomWeights(seed);
            var buffer = new byte[4 << 20];
            var total = p.Tensors().Sum(t => t.Bytes);
            long written = 0, nextReport = 0;
            var sw = Stopwatch.StartNew();
            foreach (var t in g.Tensors)
            {
                g.WriteTensorData(t.IsNorm ? RandomWeights.FillOnesF32 : rng.FillF16, buffer);
                written += t.Bytes;
                if (written >= nextReport)
                {
                    log?.Invoke($"  wrote {written / 1e6,9:F0} / {total / 1e6:F0} MB ({sw.Elapsed.TotalSeconds:F1} s)");
                    nextReport = written + 256L * 1024 * 1024;
                }
            }
        }
        return new FileInfo(path).Length;
    }

    /// <summary>Quantizes with llama.cpp (e.g. "q4_k_m", "q8_0"); throws when llama.cpp reports failure.</summary>
    public static void Quantize(string src, string dst, string quant)
    {
        // LLamaQuantizer P/Invokes before LLamaSharp's native-library resolver is registered (that happens
        // in NativeApi's static constructor), so touch NativeApi first or "libllama" is not found.
        NativeApi.llama_empty_call();
        if (!LLamaQuantizer.Quantize(src, dst, quant, nthread: Environment.ProcessorCount))
            throw new InvalidOperationException($"llama.cpp failed to quantize {src} to {quant}");
    }
}
