using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Scheduling;
using Inference.Tests.Grammar;
using Inference.Tests.Grammar.Completion;
using LLama.Native;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Tests.Scheduling;

/// <summary>
/// Checking the grammar only against the candidates that can be chosen (TokenSampler) picks exactly the tokens
/// the whole-vocabulary grammar stage picks: greedy and seeded sampling, every corpus schema, format "json",
/// both models, same text and token counts with the optimisation on and off.
/// </summary>
public sealed class LazyGrammarSamplingTests(GrammarModels models) : IClassFixture<GrammarModels>
{
    public static IEnumerable<object[]> Cases() =>
        from model in new[] { "stories260K", "llama-2-tiny-random" }
        from temperature in new[] { 0f, 0.8f }
        select new object[] { model, temperature };

    private static IEnumerable<(string Name, string Grammar)> Grammars()
    {
        foreach (var (name, schema) in SchemaCorpus.Schemas)
        {
            using var document = JsonDocument.Parse(schema);
            yield return (name, JsonGrammar.FromSchema(document.RootElement));
        }
        yield return ("format json", AnyJsonObject.Gbnf);
        using var nested = JsonDocument.Parse(ShortestCompletionTests.NestedSchema);
        yield return ("nested", JsonGrammar.FromSchema(nested.RootElement));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_same_tokens_with_and_without_the_optimisation(string model, float temperature)
    {
        using var runner = new ModelRunner(models.Get(model), new RunnerSettings
        {
            ContextLength = 512, Parallel = 1, CachedSequences = 0, StepTokenBudget = 64, Threads = 1,
        }, new SchedulerStats("lazy-grammar"), NullLogger.Instance);
        var prompt = runner.Tokenize("Once upon a time", true, false);
        int compared = 0;
        foreach (var (name, grammar) in Grammars())
        {
            foreach (uint seed in new uint[] { 1, 2 })
            {
                async Task<Outcome> RunAsync(bool lazily) => await RunnerHarness.ReadAsync(runner.Submit(new GenerationRequest
                {
                    PromptTokens = prompt,
                    MaxTokens = 48,
                    Sampling = new SamplingSettings { Temperature = temperature, Seed = seed, Grammar = grammar, CheckGrammarLazily = lazily },
                }));
                var whole = await RunAsync(lazily: false);
                var lazy = await RunAsync(lazily: true);
                Assert.True(whole.Text == lazy.Text, $"{model} {name} seed {seed}:\nwhole: {whole.Text}\nlazy:  {lazy.Text}");
                Assert.Equal(whole.Done.EvalCount, lazy.Done.EvalCount);
                Assert.Equal(whole.Done.Reason, lazy.Done.Reason);
                compared++;
            }
        }
        Assert.True(compared >= 70);
    }

    /// <summary>The split chain is really used for the large vocabulary (a test of the seam, so the equivalence above compares two paths there).</summary>
    [Fact]
    public void A_grammar_with_top_k_uses_the_split_chain_and_top_k_off_the_whole_chain()
    {
        var vocab = models.TinyRandom.NativeHandle.Vocab;
        using var split = new TokenSampler(new SamplingSettings { Grammar = AnyJsonObject.Gbnf }, vocab);
        Assert.True(split.IsSplit);
        using var whole = new TokenSampler(new SamplingSettings { Grammar = AnyJsonObject.Gbnf, TopK = 0 }, vocab);
        Assert.False(whole.IsSplit);
        using var off = new TokenSampler(new SamplingSettings { Grammar = AnyJsonObject.Gbnf, CheckGrammarLazily = false }, vocab);
        Assert.False(off.IsSplit);
        // A small vocabulary is checked whole: llama.cpp does that faster than candidates can be ordered.
        using var small = new TokenSampler(new SamplingSettings { Grammar = AnyJsonObject.Gbnf }, models.Stories.NativeHandle.Vocab);
        Assert.False(small.IsSplit);
    }
}
