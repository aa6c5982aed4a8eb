using System.Text;
using Inference.Tests.Support;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Inference.Tests.Grammar;

/// <summary>Both tiny test models, loaded once for a test class.</summary>
public sealed class GrammarModels : IDisposable
{
    public GrammarModels()
    {
        Stories = LLamaWeights.LoadFromFile(Params(TestModels.Stories260K));
        TinyRandom = LLamaWeights.LoadFromFile(Params(TestModels.TinyRandomLlama2));
    }

    public LLamaWeights Stories { get; }

    public LLamaWeights TinyRandom { get; }

    public LLamaWeights Get(string model) => model == "stories260K" ? Stories : TinyRandom;

    public static string PathOf(string model) => model == "stories260K" ? TestModels.Stories260K : TestModels.TinyRandomLlama2;

    public static ModelParams Params(string path) => new(path) { ContextSize = 1024, Threads = 2, GpuLayerCount = 0 };

    public void Dispose()
    {
        Stories.Dispose();
        TinyRandom.Dispose();
    }
}

/// <summary>Grammar-constrained sampling with the plain llama.cpp API, outside the server's scheduler.</summary>
public static class ConstrainedGeneration
{
    /// <summary>Generation stops at end-of-generation, which the grammar allows only once the document is complete.</summary>
    public const int TokenCap = 400;

    public sealed record Result(string Text, bool Finished, int Tokens);

    public static Result Run(LLamaWeights weights, string modelPath, string grammar, uint seed, string prompt = "Once upon a time",
        int tokenCap = TokenCap)
    {
        using var context = weights.CreateContext(GrammarModels.Params(modelPath));
        // Grammar first: it masks impossible tokens before top-k/temperature pick among the rest.
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddGrammar(weights.NativeHandle.Vocab, grammar, "root");
        chain.AddTopK(40);
        chain.AddTemperature(0.8f);
        chain.AddDistributionSampler(seed);

        var tokens = context.NativeHandle.Tokenize(prompt, true, false, Encoding.UTF8);
        var batch = new LLamaBatch();
        var logitsIndex = batch.AddRange(tokens, 0, LLamaSeqId.Zero, true);
        var position = tokens.Length;
        var decoder = new StreamingTokenDecoder(Encoding.UTF8, weights);
        var text = new StringBuilder();
        for (var n = 0; n < tokenCap; n++)
        {
            var result = context.NativeHandle.Decode(batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"decode failed: {result}");
            var token = chain.Sample(context.NativeHandle, logitsIndex);
            if (token.IsEndOfGeneration(weights.NativeHandle.Vocab)) return new Result(text.Append(decoder.Read()).ToString(), true, n);
            decoder.Add(token);
            text.Append(decoder.Read());
            batch.Clear();
            logitsIndex = batch.AddRange([token], position++, LLamaSeqId.Zero, true);
        }
        return new Result(text.Append(decoder.Read()).ToString(), false, tokenCap);
    }
}
