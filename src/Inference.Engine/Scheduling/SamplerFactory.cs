using Inference.Engine.Grammar.Checking;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// Builds llama.cpp sampler chains in the order llama.cpp's own server uses: grammar, penalties, then the rest
/// (top_k, typical, top_p, min_p, temperature, distribution; or greedy). <see cref="TokenSampler"/> also uses
/// the three parts as separate chains.
/// </summary>
public static class SamplerFactory
{
    /// <summary>The whole chain in one: grammar (when there is one) first, then penalties, then the rest.</summary>
    public static SafeLLamaSamplerChainHandle Create(SamplingSettings s, SafeLlamaModelHandle.Vocabulary vocab)
    {
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        try
        {
            // Structured output: the grammar removes every token that would break it, before anything else.
            // It must stay the first stage: a tool-call grammar no longer needed is removed as stage 0.
            if (s.Grammar is { } grammar) AddGrammar(chain, grammar, vocab);
            AddPenalties(chain, s);
            AddRest(chain, s, vocab);
            return chain;
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }

    /// <summary>A chain with only the grammar.</summary>
    internal static SafeLLamaSamplerChainHandle CreateGrammar(string grammar, SafeLlamaModelHandle.Vocabulary vocab)
    {
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        try
        {
            AddGrammar(chain, grammar, vocab);
            return chain;
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }

    /// <summary>A chain with only the penalties, or null when the settings turn them off.</summary>
    internal static SafeLLamaSamplerChainHandle? CreatePenalties(SamplingSettings s)
    {
        if (!HasPenalties(s)) return null;
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        AddPenalties(chain, s);
        return chain;
    }

    /// <summary>A chain with what follows the penalties.</summary>
    internal static SafeLLamaSamplerChainHandle CreateRest(SamplingSettings s, SafeLlamaModelHandle.Vocabulary vocab)
    {
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        AddRest(chain, s, vocab);
        return chain;
    }

    private static void AddGrammar(SafeLLamaSamplerChainHandle chain, string grammar, SafeLlamaModelHandle.Vocabulary vocab)
    {
        // Every grammar, whoever built it, is checked before llama.cpp sees it: a grammar llama.cpp refuses
        // becomes a null sampler that LLamaSharp adds anyway (a SIGSEGV at the first token), and some it
        // accepts hang or abort it later. The exception fails only this request (ModelRunner logs it).
        GbnfChecker.EnsureUsable(grammar);
        chain.AddGrammar(vocab, grammar, "root");
    }

    private static bool HasPenalties(SamplingSettings s) => s.RepeatPenalty != 1f || s.PresencePenalty != 0f || s.FrequencyPenalty != 0f;

    private static void AddPenalties(SafeLLamaSamplerChainHandle chain, SamplingSettings s)
    {
        if (HasPenalties(s)) chain.AddPenalties(s.RepeatLastN, s.RepeatPenalty, s.FrequencyPenalty, s.PresencePenalty);
    }

    private static void AddRest(SafeLLamaSamplerChainHandle chain, SamplingSettings s, SafeLlamaModelHandle.Vocabulary vocab)
    {
        if (s.Temperature <= 0f)
        {
            chain.AddGreedySampler();
            return;
        }

        // top_k beyond the vocabulary keeps every token: the same as the vocabulary's size, which bounds llama.cpp's sort.
        if (s.TopK > 0) chain.AddTopK(Math.Min(s.TopK, vocab.Count));
        if (s.TypicalP < 1f) chain.AddTypical(s.TypicalP, 1);
        if (s.TopP < 1f) chain.AddTopP(s.TopP, 1);
        if (s.MinP > 0f) chain.AddMinP(s.MinP, 1);
        chain.AddTemperature(s.Temperature);
        chain.AddDistributionSampler(s.Seed);
    }
}
