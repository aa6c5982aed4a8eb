using Inference.Engine.Scheduling;
using Inference.Tests.Support;
using LLama;
using LLama.Native;

namespace Inference.Tests.Scheduling;

/// <summary>
/// N-gram speculative decoding (<see cref="DraftVerification"/>) on real models: with drafting on, a request produces
/// the same pieces, tokens, counts and finish as with it off (greedy and seeded sampling, num_predict, stop strings,
/// logprobs), repeated text gets drafts accepted and saves exactly one decode step per accepted draft, a second
/// request turns drafting off while both run, and cancelling or a failed decode leaves the runner clean.
/// </summary>
public sealed class SpeculativeDecodingTests(StoriesWeights stories, TinyRandomWeights tiny)
    : IClassFixture<StoriesWeights>, IClassFixture<TinyRandomWeights>
{
    private const int Draft = 8;

    /// <summary>A story that repeats itself: once the model continues it, its own prompt predicts the next tokens.</summary>
    internal const string Repetitive =
        "Once upon a time, there was a little girl named Lily. She loved to play with her ball in the park. " +
        "Once upon a time, there was a little girl named Lily. She loved to play with her ball in the park. " +
        "Once upon a time, there was a little girl named Lily.";

    private const string Sql =
        "Schema: customers(customer_id, name, email), orders(order_id, customer_id, total). " +
        "Question: total per customer. SQL: SELECT customers.name, SUM(orders.total) FROM customers JOIN orders ON";

    private const string Code =
        "def area(width, height):\n    return width * height\n\ndef volume(width, height, depth):\n    return";

    public static TheoryData<string, string> Prompts => new()
    {
        { "stories", Repetitive },
        { "stories", "Tom and Sue went to the shop" },
        { "stories", Sql },
        { "stories", Code },
        { "tiny", Repetitive },
        { "tiny", Code },
    };

    private LLamaWeights Weights(string model) => model == "tiny" ? tiny.Weights : stories.Weights;

    /// <summary>What a run streamed: every piece (text and logprobs) and the final event.</summary>
    private sealed record Run(List<TokenPiece> Pieces, GenerationCompleted Done)
    {
        public string Text => string.Concat(Pieces.Select(p => p.Text));
    }

    private static GenerationRequest Request(LLamaToken[] prompt, int maxTokens, float temperature = 0f, uint seed = 0,
        IReadOnlyList<string>? stop = null, int? topLogprobs = null, CancellationToken ct = default, float repeatPenalty = 1.1f) => new()
    {
        PromptTokens = prompt,
        MaxTokens = maxTokens,
        Stop = stop ?? [],
        TopLogprobs = topLogprobs,
        ReturnTokens = true,
        Cancellation = ct,
        Sampling = new SamplingSettings { Temperature = temperature, Seed = seed, RepeatPenalty = repeatPenalty },
    };

    private static async Task<Run> ReadAsync(GenerationStream stream)
    {
        var pieces = new List<TokenPiece>();
        await foreach (var e in stream.Events.ReadAllAsync())
        {
            switch (e)
            {
                case TokenPiece piece: pieces.Add(piece); break;
                case GenerationCompleted done: return new Run(pieces, done);
                case GenerationFailed failed: throw new InvalidOperationException(failed.Message);
            }
        }
        throw new InvalidOperationException("the stream ended without a result");
    }

    /// <summary>The request alone on a runner without drafting and on one with it; returns both runs and the stats of each runner.</summary>
    private static async Task<(Run Off, Run On, SchedulerStats OffStats, SchedulerStats OnStats)> BothAsync(
        LLamaWeights weights, Func<LLamaToken[], GenerationRequest> request, string prompt, bool batchInvariant = false)
    {
        using var off = Create(weights, draftTokens: 0, batchInvariant);
        using var on = Create(weights, Draft, batchInvariant);
        var tokens = off.Tokenize(prompt, true, false);
        var offRun = await ReadAsync(off.Submit(request(tokens)));
        var onRun = await ReadAsync(on.Submit(request(tokens)));
        return (offRun, onRun, off.Stats, on.Stats);
    }

    private static ModelRunner Create(LLamaWeights weights, int draftTokens, bool batchInvariant = false, int parallel = 1) =>
        new(weights, new RunnerSettings
        {
            ContextLength = 2048,
            Parallel = parallel,
            CachedSequences = 0,
            StepTokenBudget = 16,
            Threads = 1,
            BatchInvariant = batchInvariant,
            DraftTokens = draftTokens,
        }, new SchedulerStats("test"), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>The same pieces (text and how it was cut), tokens, counts and finish.</summary>
    private static void AssertSame(Run off, Run on)
    {
        Assert.Equal(off.Pieces.Select(p => p.Text), on.Pieces.Select(p => p.Text));
        Assert.Equal(off.Done.OutputTokens, on.Done.OutputTokens);
        Assert.Equal(off.Done.EvalCount, on.Done.EvalCount);
        Assert.Equal(off.Done.PromptEvalCount, on.Done.PromptEvalCount);
        Assert.Equal(off.Done.Reason, on.Done.Reason);
        Assert.Equal(off.Done.StopSequence, on.Done.StopSequence);
    }

    [Theory]
    [MemberData(nameof(Prompts))]
    public async Task Greedy_output_and_logprobs_are_the_same_with_drafting_on_and_off_in_batch_invariant_mode(string model, string prompt)
    {
        var (off, on, offStats, onStats) = await BothAsync(Weights(model), t => Request(t, 160, topLogprobs: 1), prompt, batchInvariant: true);

        AssertSame(off, on);
        // Bit for bit: every row is computed in a block of four of its own sequence either way (StepPadding).
        Assert.Equal(Logprobs(off).Select(l => l.Logprob), Logprobs(on).Select(l => l.Logprob));
        Assert.Equal(offStats.TokensGenerated, onStats.TokensGenerated);
        Assert.Equal(0, offStats.DraftTokensProposed);
        Assert.True(onStats.DraftTokensProposed > 0, "the prompt and output repeat tokens, so something is drafted");
        // Every accepted draft is a token that needed no decode step of its own.
        Assert.Equal(offStats.DecodeSteps - onStats.DraftTokensAccepted, onStats.DecodeSteps);
    }

    /// <summary>
    /// Without batch invariance a one-token decode (drafting off) and a longer one (drafts) differ in the last bits of
    /// the logits, as batching does: greedy outputs agree token for token until a near tie, if any. (No repeat penalty:
    /// greedy then picks the largest raw logit, whose lead the logprobs show.)
    /// </summary>
    [Theory]
    [MemberData(nameof(Prompts))]
    public async Task Greedy_output_is_the_same_with_drafting_on_and_off_up_to_a_near_tie(string model, string prompt)
    {
        var (off, on, offStats, onStats) = await BothAsync(Weights(model), t => Request(t, 160, topLogprobs: 2, repeatPenalty: 1f), prompt);

        var offTokens = off.Done.OutputTokens!;
        var onTokens = on.Done.OutputTokens!;
        int differ = Enumerable.Range(0, Math.Min(offTokens.Count, onTokens.Count)).FirstOrDefault(i => offTokens[i] != onTokens[i], -1);
        if (differ < 0)
        {
            AssertSame(off, on);
        }
        else
        {
            var alternatives = Logprobs(off)[differ].TopLogprobs;
            Assert.True(alternatives[0].Logprob - alternatives[1].Logprob < 0.01,
                $"token {differ} differs, but its two most likely tokens are {alternatives[0].Logprob - alternatives[1].Logprob} apart");
        }
        Assert.True(onStats.DraftTokensProposed > 0);
        Assert.Equal(0, offStats.DraftTokensProposed);
    }

    private static List<TokenLogprob> Logprobs(Run run) => run.Pieces.SelectMany(p => p.Logprobs ?? []).ToList();

    [Fact]
    public async Task A_repetitive_prompt_gets_drafts_accepted_and_needs_fewer_decode_steps()
    {
        // Without a repeat penalty (1.1 by default works against repeating) stories260K repeats itself.
        // Batch-invariant mode: there a verify step's logits equal a one-token step's, so the outputs must match
        // exactly (in the default mode a near-tie may flip; the near-tie test covers that).
        var (off, on, offStats, onStats) = await BothAsync(stories.Weights, t => Request(t, 160, repeatPenalty: 1f), Repetitive, batchInvariant: true);

        AssertSame(off, on);
        Assert.Equal(160, on.Done.EvalCount);
        Assert.True(onStats.DraftTokensAccepted > 0, $"accepted {onStats.DraftTokensAccepted} of {onStats.DraftTokensProposed}");
        Assert.True(onStats.DraftTokensAccepted <= onStats.DraftTokensProposed);
        Assert.Equal(offStats.DecodeSteps - onStats.DraftTokensAccepted, onStats.DecodeSteps);
    }

    [Theory]
    [InlineData(Repetitive, 42u)]
    [InlineData("Tom and Sue went to the shop", 7u)]
    public async Task Seeded_sampling_is_the_same_with_drafting_on_and_off(string prompt, uint seed)
    {
        var (off, on, _, onStats) = await BothAsync(stories.Weights, t => Request(t, 160, temperature: 0.8f, seed: seed), prompt);

        AssertSame(off, on);
        Assert.True(onStats.DraftTokensProposed > 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    public async Task Num_predict_is_exact_with_drafting(int maxTokens)
    {
        var (off, on, _, _) = await BothAsync(stories.Weights, t => Request(t, maxTokens), Repetitive);

        AssertSame(off, on);
        Assert.Equal(maxTokens, on.Done.EvalCount);
        Assert.Equal(maxTokens, on.Done.OutputTokens!.Count);
        Assert.Equal(FinishReason.Length, on.Done.Reason);
    }

    [Fact]
    public async Task A_stop_string_met_inside_accepted_drafts_ends_the_output_where_it_ends_without_them()
    {
        var (full, _, _, _) = await BothAsync(stories.Weights, t => Request(t, 120), Repetitive);
        // A stop string from the second half of the output, where drafts are being accepted.
        string stop = full.Text.Substring(full.Text.Length * 2 / 3, 5);

        var (off, on, _, onStats) = await BothAsync(stories.Weights, t => Request(t, 120, stop: [stop]), Repetitive);

        AssertSame(off, on);
        Assert.Equal(FinishReason.Stop, on.Done.Reason);
        Assert.Equal(stop, on.Done.StopSequence);
        Assert.True(on.Done.EvalCount < 120);
        Assert.DoesNotContain(stop, on.Text);
        Assert.True(onStats.DraftTokensAccepted > 0);
    }

    [Fact]
    public async Task Logprobs_come_with_the_same_tokens_and_pieces()
    {
        var (off, on, _, onStats) = await BothAsync(stories.Weights, t => Request(t, 80, topLogprobs: 3), Repetitive);

        AssertSame(off, on);
        var offLogprobs = Logprobs(off);
        var onLogprobs = Logprobs(on);
        Assert.Equal(80, onLogprobs.Count);
        Assert.Equal(offLogprobs.Select(l => l.Token), onLogprobs.Select(l => l.Token));
        Assert.Equal(offLogprobs.Select(l => l.TopLogprobs.Select(a => a.Token)), onLogprobs.Select(l => l.TopLogprobs.Select(a => a.Token)));
        // The logits of a row decoded with others can differ from a one-row decode's in the last bits (StepPadding).
        for (int i = 0; i < onLogprobs.Count; i++) Assert.Equal(offLogprobs[i].Logprob, onLogprobs[i].Logprob, 0.01);
        Assert.True(onStats.DraftTokensAccepted > 0);
    }

    [Fact]
    public async Task Cancelling_a_drafting_stream_frees_its_sequence_and_the_runner_goes_on_clean()
    {
        using var runner = Create(stories.Weights, Draft);
        var prompt = runner.Tokenize(Repetitive, true, false);
        using var cts = new CancellationTokenSource();
        var cancelled = ReadAsync(runner.Submit(Request(prompt, -1, ct: cts.Token)));
        await RunnerHarness.UntilAsync(() => runner.Stats.DraftTokensAccepted > 20);
        cts.Cancel();

        var run = await cancelled.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(FinishReason.Cancelled, run.Done.Reason);
        Assert.Equal(1, runner.Stats.CancelledSequences);
        await RunnerHarness.UntilAsync(() => runner.Stats.ActiveSequences == 0 && runner.Stats.KvCellsUsed == 0);

        // The freed sequence id starts empty again: the next request writes exactly what a fresh runner does.
        var again = await ReadAsync(runner.Submit(Request(prompt, 60)));
        using var fresh = Create(stories.Weights, draftTokens: 0);
        AssertSame(await ReadAsync(fresh.Submit(Request(prompt, 60))), again);
    }

    [Fact]
    public async Task A_second_request_turns_drafting_off_while_both_run_and_each_writes_what_it_writes_alone()
    {
        using var runner = Create(stories.Weights, Draft, parallel: 2);
        // Per step: the sequences it held and the drafts verified so far (what a step drafted shows at the next one).
        var steps = new List<(int Sequences, long ProposedBefore)>();
        var decode = runner.DecodeStep;
        runner.DecodeStep = (batch, requests) =>
        {
            lock (steps) steps.Add((requests.Count, runner.Stats.DraftTokensProposed));
            return decode(batch, requests);
        };
        var promptA = runner.Tokenize(Repetitive, true, false);
        var promptB = runner.Tokenize("Tom and Sue went to the shop", true, false);

        var a = ReadAsync(runner.Submit(Request(promptA, 300)));
        await RunnerHarness.UntilAsync(() => runner.Stats.DraftTokensAccepted > 0);
        var b = await ReadAsync(runner.Submit(Request(promptB, 40)));
        var aRun = await a;

        using var alone = Create(stories.Weights, draftTokens: 0);
        AssertSame(await ReadAsync(alone.Submit(Request(promptA, 300))), aRun);
        AssertSame(await ReadAsync(alone.Submit(Request(promptB, 40))), b);

        List<(int Sequences, long ProposedBefore)> seen;
        lock (steps) seen = [.. steps];
        var drafted = seen.Select((s, i) => (i + 1 < seen.Count ? seen[i + 1].ProposedBefore : runner.Stats.DraftTokensProposed) - s.ProposedBefore > 0).ToList();
        int firstShared = seen.FindIndex(s => s.Sequences == 2);
        int lastShared = seen.FindLastIndex(s => s.Sequences == 2);
        Assert.True(firstShared > 0, "B was decoded beside A");
        // Together, nobody drafts; alone before and after, A drafts.
        Assert.All(Enumerable.Range(0, seen.Count).Where(i => seen[i].Sequences == 2), i => Assert.False(drafted[i], $"step {i} drafted beside B"));
        Assert.Contains(true, drafted.Take(firstShared));
        Assert.Contains(true, drafted.Skip(lastShared + 1));
    }

    [Fact]
    public async Task A_drafted_step_whose_decode_fails_is_decoded_again_without_drafts()
    {
        using var runner = Create(stories.Weights, Draft);
        int failures = 0;
        var decode = runner.DecodeStep;
        runner.DecodeStep = (batch, requests) =>
            // Past the prompt, a step of more than one token holds drafts.
            runner.Stats.TokensGenerated > 0 && batch.TokenCount > 1 && Interlocked.CompareExchange(ref failures, 1, 0) == 0
                ? DecodeResult.DecodeFailed
                : decode(batch, requests);
        var prompt = runner.Tokenize(Repetitive, true, false);

        var run = await ReadAsync(runner.Submit(Request(prompt, 100)));

        Assert.Equal(1, failures);
        using var off = Create(stories.Weights, draftTokens: 0);
        AssertSame(await ReadAsync(off.Submit(Request(prompt, 100))), run);
        Assert.True(runner.Stats.DraftTokensAccepted > 0);
    }
}
