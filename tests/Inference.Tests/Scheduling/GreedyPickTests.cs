using Inference.Engine.Scheduling;
using Inference.Tests.Grammar;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Tests.Scheduling;

/// <summary>
/// Greedy tokens picked in managed code (TokenSampler.PickGreedy: the recent tokens' logits penalised by llama.cpp's
/// own sampler, then the first largest logit) are the tokens llama.cpp's chain (penalties, greedy) picks.
/// </summary>
public sealed class GreedyPickTests(GrammarModels models) : IClassFixture<GrammarModels>
{
    /// <summary>llama.cpp's greedy loop: the first index whose value no later one exceeds.</summary>
    private static int Reference(float[] values)
    {
        int selected = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[selected]) selected = i;
        return selected;
    }

    [Fact]
    public void The_first_largest_value_is_found_at_every_length_and_position()
    {
        var random = new Random(7);
        for (int length = 1; length <= 70; length++)
        {
            for (int trial = 0; trial < 20; trial++)
            {
                // Few distinct values, so that ties are common.
                var values = Enumerable.Range(0, length).Select(_ => (float)random.Next(-3, 4)).ToArray();
                Assert.Equal(Reference(values), FirstMax.Of(values));
            }
        }
        var large = Enumerable.Range(0, 128_256).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
        large[100_000] = 30f;
        large[128_255] = 30f;
        Assert.Equal(100_000, FirstMax.Of(large));
    }

    [Fact]
    public void Signed_zeros_infinities_and_NaN_are_treated_as_llama_cpp_treats_them()
    {
        // -0 and +0 compare equal: the first of them wins.
        Assert.Equal(1, FirstMax.Of([-1f, -0f, 0f, -2f]));
        Assert.Equal(1, FirstMax.Of(Enumerable.Repeat(-1f, 40).Select((v, i) => i == 1 ? -0f : i == 30 ? 0f : v).ToArray()));
        // All -inf: llama.cpp keeps index 0.
        Assert.Equal(0, FirstMax.Of(Enumerable.Repeat(float.NegativeInfinity, 50).ToArray()));
        Assert.Equal(3, FirstMax.Of([1f, 2f, 3f, float.PositiveInfinity, float.PositiveInfinity]));
        // Any NaN, first, in a vector lane after that lane's largest value, or in the scalar tail: -1, and the caller
        // leaves the token to llama.cpp's chain (a vector maximum could lose the lane's real maximum to a NaN).
        Assert.Equal(-1, FirstMax.Of([float.NaN, 1f, 2f]));
        for (int at = 0; at < 67; at++)
        {
            var withNaN = Enumerable.Range(0, 67).Select(i => (float)(i % 7)).ToArray();
            withNaN[60] = 100f;
            withNaN[at == 60 ? 61 : at] = float.NaN;
            Assert.Equal(-1, FirstMax.Of(withNaN));
        }
    }

    [Fact]
    public void Penalised_recent_tokens_lose_to_the_next_best_and_the_logits_are_put_back()
    {
        var vocab = models.TinyRandom.NativeHandle.Vocab;
        using var sampler = new TokenSampler(new SamplingSettings { Temperature = 0, RepeatPenalty = 1.1f, RepeatLastN = 64 }, vocab);
        Assert.True(sampler.PicksGreedyHere);
        var logits = new float[vocab.Count];
        logits[5] = 2.0f;
        logits[7] = 1.9f;
        Assert.Equal(5, sampler.PickGreedy(logits));
        sampler.Accept((LLama.Native.LLamaToken)5);
        // 2.0 / 1.1 = 1.82 < 1.9.
        Assert.Equal(7, sampler.PickGreedy(logits));
        Assert.Equal(2.0f, logits[5]);
        Assert.Equal(1.9f, logits[7]);

        using var sampled = new TokenSampler(new SamplingSettings { Temperature = 0.8f }, vocab);
        Assert.False(sampled.PicksGreedyHere);
        using var off = new TokenSampler(new SamplingSettings { Temperature = 0, PickGreedyInManagedCode = false }, vocab);
        Assert.False(off.PicksGreedyHere);
        using var grammar = new TokenSampler(new SamplingSettings { Temperature = 0, Grammar = Inference.Engine.Grammar.AnyJsonObject.Gbnf }, vocab);
        Assert.False(grammar.PicksGreedyHere);
    }

    public static IEnumerable<object[]> Cases() =>
        from model in new[] { "stories260K", "llama-2-tiny-random" }
        from penalties in new[] { "default", "strong", "none", "window 0", "window 4" }
        select new object[] { model, penalties };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_same_tokens_and_log_probabilities_as_llama_cpp_s_chain(string model, string penalties)
    {
        var sampling = penalties switch
        {
            "default" => new SamplingSettings { Temperature = 0 },
            "strong" => new SamplingSettings { Temperature = 0, RepeatPenalty = 1.6f, FrequencyPenalty = 0.4f, PresencePenalty = 0.3f, RepeatLastN = 32 },
            "none" => new SamplingSettings { Temperature = 0, RepeatPenalty = 1f },
            "window 0" => new SamplingSettings { Temperature = 0, RepeatPenalty = 1.3f, RepeatLastN = 0 },
            _ => new SamplingSettings { Temperature = 0, RepeatPenalty = 2f, RepeatLastN = 4 },
        };
        using var runner = new ModelRunner(models.Get(model), new RunnerSettings
        {
            ContextLength = 512, Parallel = 1, CachedSequences = 0, StepTokenBudget = 64, Threads = 1,
        }, new SchedulerStats("greedy-pick"), NullLogger.Instance);
        foreach (var text in new[] { "Once upon a time", "The little dog", "Lily and Tom went to the park. They" })
        {
            var prompt = runner.Tokenize(text, true, false);
            async Task<(Outcome Outcome, List<TokenLogprob> Logprobs)> RunAsync(bool here)
            {
                var stream = runner.Submit(new GenerationRequest
                {
                    PromptTokens = prompt, MaxTokens = 96, TopLogprobs = 2,
                    Sampling = sampling with { PickGreedyInManagedCode = here },
                });
                var logprobs = new List<TokenLogprob>();
                var output = new System.Text.StringBuilder();
                await foreach (var e in stream.Events.ReadAllAsync())
                {
                    switch (e)
                    {
                        case TokenPiece piece:
                            output.Append(piece.Text);
                            if (piece.Logprobs is { } l) logprobs.AddRange(l);
                            break;
                        case GenerationCompleted done: return (new Outcome(output.ToString(), done), logprobs);
                        case GenerationFailed failed: throw new InvalidOperationException(failed.Message);
                    }
                }
                throw new InvalidOperationException("the stream ended without a completion");
            }
            var chain = await RunAsync(here: false);
            var here = await RunAsync(here: true);
            Assert.True(chain.Outcome.Text == here.Outcome.Text, $"{model} {penalties} '{text}':\nchain: {chain.Outcome.Text}\nhere:  {here.Outcome.Text}");
            Assert.Equal(chain.Outcome.Done.EvalCount, here.Outcome.Done.EvalCount);
            Assert.Equal(chain.Outcome.Done.Reason, here.Outcome.Done.Reason);
            // Log-probabilities come from the raw logits: the penalised values written for the pick were put back.
            Assert.Equal(chain.Logprobs.Count, here.Logprobs.Count);
            Assert.True(chain.Logprobs.Count > 0);
            for (int i = 0; i < chain.Logprobs.Count; i++)
            {
                Assert.Equal(chain.Logprobs[i].Logprob, here.Logprobs[i].Logprob);
                Assert.Equal(chain.Logprobs[i].TopLogprobs.Select(a => (a.Token, a.Logprob)), here.Logprobs[i].TopLogprobs.Select(a => (a.Token, a.Logprob)));
            }
        }
    }
}
