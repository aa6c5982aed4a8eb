using System.Runtime.InteropServices;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Inference.GrammarFuzz;

/// <summary>
/// llama.cpp's own verdict on a grammar, asked directly: <c>llama_sampler_init_grammar</c> returns null when it
/// refuses one. (LLamaSharp's AddGrammar would add that null to a chain and crash at the next call, so it is not
/// used for the verdict.) Accepted grammars can also be sampled from, to reach llama.cpp's runtime checks.
/// Lives in a worker process: whatever llama.cpp does here can only kill the worker.
/// </summary>
internal sealed unsafe class NativeGrammarProbe : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly IntPtr _vocab;
    private readonly delegate* unmanaged<IntPtr, byte*, byte*, IntPtr> _initGrammar;
    private readonly delegate* unmanaged<IntPtr, void> _freeSampler;

    public NativeGrammarProbe(string modelPath)
    {
        var parameters = new ModelParams(modelPath) { ContextSize = 512, Threads = 1, GpuLayerCount = 0 };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
        var library = LoadedLlamaLibrary();
        var getVocab = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(library, "llama_model_get_vocab");
        _initGrammar = (delegate* unmanaged<IntPtr, byte*, byte*, IntPtr>)NativeLibrary.GetExport(library, "llama_sampler_init_grammar");
        _freeSampler = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "llama_sampler_free");
        _vocab = getVocab(_weights.NativeHandle.DangerousGetHandle());
    }

    /// <summary>Whether llama.cpp builds a grammar sampler from <paramref name="grammar"/> (start rule root).</summary>
    public bool Accepts(string grammar)
    {
        var text = Encoding.UTF8.GetBytes(grammar + "\0");
        var root = "root\0"u8.ToArray();
        IntPtr sampler;
        fixed (byte* g = text)
        fixed (byte* r = root)
        {
            sampler = _initGrammar(_vocab, g, r);
        }
        if (sampler == IntPtr.Zero) return false;
        _freeSampler(sampler);
        return true;
    }

    /// <summary>
    /// Samples up to <paramref name="maxTokens"/> tokens under the grammar (which must be accepted), the way the
    /// server does: the grammar first in the chain, then a seeded random choice. Returns the text and whether
    /// the grammar let the model end.
    /// </summary>
    public (string Text, bool Finished, int Tokens) Sample(string grammar, uint seed, int maxTokens)
    {
        _context.NativeHandle.MemoryClear(true);
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddGrammar(_weights.NativeHandle.Vocab, grammar, "root");
        chain.AddTopK(40);
        chain.AddTemperature(1.0f);
        chain.AddDistributionSampler(seed);
        var tokens = _context.NativeHandle.Tokenize("Once upon a time", true, false, Encoding.UTF8);
        var batch = new LLamaBatch();
        var logits = batch.AddRange(tokens, 0, LLamaSeqId.Zero, true);
        int position = tokens.Length;
        var decoder = new StreamingTokenDecoder(Encoding.UTF8, _weights);
        var text = new StringBuilder();
        for (int n = 0; n < maxTokens; n++)
        {
            if (_context.NativeHandle.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("decode failed");
            var token = chain.Sample(_context.NativeHandle, logits);
            if (token.IsEndOfGeneration(_weights.NativeHandle.Vocab)) return (text.Append(decoder.Read()).ToString(), true, n);
            decoder.Add(token);
            text.Append(decoder.Read());
            batch.Clear();
            logits = batch.AddRange([token], position++, LLamaSeqId.Zero, true);
        }
        return (text.Append(decoder.Read()).ToString(), false, maxTokens);
    }

    /// <summary>The libllama LLamaSharp loaded (it picks a CPU variant at run time), found among the process's mappings.</summary>
    private static IntPtr LoadedLlamaLibrary()
    {
        var path = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && Path.GetFileName(fields[5]) == "libllama.so")
            .Select(fields => fields[5])
            .FirstOrDefault() ?? throw new InvalidOperationException("libllama.so is not loaded");
        return NativeLibrary.Load(path);
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
