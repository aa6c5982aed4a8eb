using System.Text;
using LLama;
using LLama.Native;

namespace Inference.Tests.Grammar;

/// <summary>
/// Whether llama.cpp's own grammar sampler accepts a text: the text is fed one byte-sized token at a time, and
/// before each token the grammar is applied to the whole vocabulary; a masked token means "rejected". A masked
/// token is never accepted (llama.cpp aborts on that), so this is safe in-process for grammars the checker passed.
/// </summary>
public static class LlamaGrammarMatch
{
    public static bool Matches(LLamaWeights weights, string grammar, string text)
    {
        var vocab = weights.NativeHandle.Vocab;
        var byteTokens = SingleByteTokens(weights);
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddGrammar(vocab, grammar, "root");
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            var token = byteTokens[b] ?? throw new InvalidOperationException($"no token for byte {b}");
            if (!Allowed(chain, vocab.Count, token)) return false;
            chain.Accept(token);
        }
        return Allowed(chain, vocab.Count, vocab.EOS!.Value);
    }

    private static bool Allowed(SafeLLamaSamplerChainHandle chain, int vocabSize, LLamaToken token)
    {
        var candidates = LLamaTokenDataArray.Create(new float[vocabSize]);
        using (LLamaTokenDataArrayNative.Create(candidates, out var native))
        {
            chain.Apply(ref native);
        }
        foreach (var candidate in candidates.Data.Span)
        {
            if (candidate.ID == token) return !float.IsNegativeInfinity(candidate.Logit);
        }
        return false;
    }

    /// <summary>For each byte, a token whose text is exactly that byte (byte-fallback tokens cover all of them).</summary>
    private static LLamaToken?[] SingleByteTokens(LLamaWeights weights)
    {
        var tokens = new LLamaToken?[256];
        Span<byte> piece = stackalloc byte[16];
        for (int id = 0; id < weights.NativeHandle.Vocab.Count; id++)
        {
            var n = weights.NativeHandle.TokenToSpan(id, piece, 0, false);
            if (n == 1) tokens[piece[0]] ??= id;
        }
        return tokens;
    }
}
