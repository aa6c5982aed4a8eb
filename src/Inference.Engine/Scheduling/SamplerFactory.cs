using Inference.Engine.Grammar.Checking;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>Builds a llama.cpp sampler chain in the order llama.cpp's own server uses (grammar first).</summary>
public static class SamplerFactory
{
    public static SafeLLamaSamplerChainHandle Create(SamplingSettings s, SafeLlamaModelHandle.Vocabulary vocab)
    {
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        // Structured output: the grammar removes every token that would break it, before anything else.
        // It must stay the first stage: SequenceSlot removes stage 0 when a tool-call grammar is no longer needed.
        if (s.Grammar is { } grammar)
        {
            // Every grammar, whoever built it, is checked before llama.cpp sees it: a grammar llama.cpp refuses
            // becomes a null sampler that LLamaSharp adds anyway (a SIGSEGV at the first token), and some it
            // accepts hang or abort it later. The exception fails only this request (ModelRunner logs it).
            try
            {
                GbnfChecker.EnsureUsable(grammar);
            }
            catch
            {
                chain.Dispose();
                throw;
            }
            chain.AddGrammar(vocab, grammar, "root");
        }
        if (s.RepeatPenalty != 1f || s.PresencePenalty != 0f || s.FrequencyPenalty != 0f)
            chain.AddPenalties(s.RepeatLastN, s.RepeatPenalty, s.FrequencyPenalty, s.PresencePenalty);

        if (s.Temperature <= 0f)
        {
            chain.AddGreedySampler();
            return chain;
        }

        // top_k beyond the vocabulary keeps every token: the same as the vocabulary's size, which bounds llama.cpp's sort.
        if (s.TopK > 0) chain.AddTopK(Math.Min(s.TopK, vocab.Count));
        if (s.TypicalP < 1f) chain.AddTypical(s.TypicalP, 1);
        if (s.TopP < 1f) chain.AddTopP(s.TopP, 1);
        if (s.MinP > 0f) chain.AddMinP(s.MinP, 1);
        chain.AddTemperature(s.Temperature);
        chain.AddDistributionSampler(s.Seed);
        return chain;
    }
}
