using Inference.Engine.Scheduling;
using LLama.Native;
using static Inference.Tests.Scheduling.RunnerHarness;

namespace Inference.Tests.Scheduling;

/// <summary>
/// Where a reused prefix's KV cells come from: a finished sequence's cells are continued in their own stream
/// (nothing copied), a running sequence's are copied whole into a new stream (two requests on one prefix at
/// once). Either way the output equals a run that evaluated the whole prompt.
/// </summary>
public sealed class PrefixReuseTests(StoriesWeights model) : IClassFixture<StoriesWeights>
{
    private const string Story = "The little dog liked to run in the big green park with his friend. ";

    private static LLamaToken[] Prompt(ModelRunner runner, string text) => runner.Tokenize(text, true, false);

    [Fact]
    public async Task A_follow_up_continues_the_finished_sequence_in_its_own_stream_without_copying()
    {
        using var runner = Create(model.Weights, parallel: 2, cachedSequences: 2);
        var stats = runner.Stats;
        var first = Prompt(runner, Story + Story + "One day the dog");
        var turn1 = await ReadAsync(runner.Submit(Request(first, 1, 8)));
        Assert.Equal((first.Length, 0L, 0L), (turn1.Done.PromptEvalCount, stats.PrefixesReusedInPlace, stats.KvStreamsCopied));

        var followUp = Prompt(runner, Story + Story + "One day the dog saw a big red ball.");
        int shared = PrefixCache.CommonPrefix(first, followUp);
        Assert.True(shared >= 16, $"the follow-up shares {shared} tokens");
        var turn2 = await ReadAsync(runner.Submit(Request(followUp, 2, 16)));

        Assert.Equal((shared, followUp.Length - shared), (turn2.Done.CachedPromptCount, turn2.Done.PromptEvalCount));
        Assert.Equal((1L, 0L), (stats.PrefixesReusedInPlace, stats.KvStreamsCopied));
        var solo = await SoloAsync(model.Weights, followUp, 2, 16);
        Assert.Equal((solo.Text, solo.Done.EvalCount), (turn2.Text, turn2.Done.EvalCount));
    }

    [Fact]
    public async Task Two_requests_on_one_cached_prefix_at_once_take_it_over_and_copy_it_once()
    {
        using var runner = Create(model.Weights, parallel: 2, cachedSequences: 2);
        var stats = runner.Stats;
        var prefix = Story + Story + Story;
        var cached = Prompt(runner, prefix + "One day");
        await ReadAsync(runner.Submit(Request(cached, 1, 4)));

        var a = Prompt(runner, prefix + "Then a cat came");
        var b = Prompt(runner, prefix + "Then a bird sang");
        using var busy = await OccupyAllAsync(runner);
        var streams = new[] { runner.Submit(Request(a, 2, 12)), runner.Submit(Request(b, 3, 12)) };
        long inPlaceBefore = stats.PrefixesReusedInPlace, copiedBefore = stats.KvStreamsCopied;
        busy.Cancel(); // both are admitted in one go, while the first prompt's cells are cached
        var outcomes = await Task.WhenAll(streams.Select(ReadAsync));

        // The first takes over the cached cells in place; the second copies the first's stream, which holds the prefix.
        Assert.Equal((1L, 1L), (stats.PrefixesReusedInPlace - inPlaceBefore, stats.KvStreamsCopied - copiedBefore));
        int reusedA = PrefixCache.CommonPrefix(a, cached);
        Assert.True(reusedA >= 16, $"{reusedA} tokens in common");
        Assert.Equal(reusedA, outcomes[0].Done.CachedPromptCount);
        Assert.Equal(Math.Min(reusedA, PrefixCache.CommonPrefix(a, b)), outcomes[1].Done.CachedPromptCount);
        Assert.Equal((await SoloAsync(model.Weights, a, 2, 12)).Text, outcomes[0].Text);
        Assert.Equal((await SoloAsync(model.Weights, b, 3, 12)).Text, outcomes[1].Text);
    }

    [Fact]
    public async Task A_bos_token_in_common_is_not_worth_a_stream_copy()
    {
        using var runner = Create(model.Weights, parallel: 2, cachedSequences: 0);
        using var busy = new CancellationTokenSource();
        var running = runner.Submit(Request(Prompt(runner, "Busy"), 1, -1, busy.Token, grammar: LongGrammar));
        var other = Prompt(runner, "Tom and Sue went to the shop");
        var outcome = await ReadAsync(runner.Submit(Request(other, 2, 4)));
        busy.Cancel();
        await ReadAsync(running);

        Assert.Equal((other.Length, 0), (outcome.Done.PromptEvalCount, outcome.Done.CachedPromptCount));
        Assert.Equal(0, runner.Stats.KvStreamsCopied);
    }
}
