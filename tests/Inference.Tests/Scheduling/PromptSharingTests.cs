using Inference.Engine.Scheduling;
using LLama.Native;
using static Inference.Tests.Scheduling.RunnerHarness;

namespace Inference.Tests.Scheduling;

/// <summary>
/// Requests with the same prompt admitted together (n samples of one code completion, clients
/// sharing a system prompt): the first evaluates the prompt, the others wait and fork its KV cells.
/// </summary>
public sealed class PromptSharingTests(StoriesWeights model) : IClassFixture<StoriesWeights>
{
    private const int N = 4;

    /// <summary>
    /// About 23 tokens a sentence. Prompt and output stay within 256 KV cells: past that, a
    /// sequence decoded beside others was seen to sample differently from its solo run, shared
    /// prompt or not (float-level differences of batched attention), so outputs could not be compared.
    /// </summary>
    private static LLamaToken[] Prompt(ModelRunner runner, int sentences) => runner.Tokenize(
        string.Concat(Enumerable.Repeat("The little dog liked to run in the big green park with his friend. ", sentences)), true, false);

    [Fact]
    public async Task Identical_requests_evaluate_the_prompt_once_and_sample_as_they_would_alone()
    {
        using var runner = Create(model.Weights, parallel: N, cachedSequences: 2);
        var prompt = Prompt(runner, 6);
        int L = prompt.Length;
        using var busy = await OccupyAllAsync(runner);
        var stats = runner.Stats;
        long deferredBefore = stats.DeferredRequests, evaluatedBefore = stats.PromptTokensEvaluated;

        var streams = Enumerable.Range(0, N).Select(i => runner.Submit(Request(prompt, (uint)(40 + i), 24))).ToList();
        busy.Cancel(); // all N are admitted in one go
        var shared = await Task.WhenAll(streams.Select(ReadAsync));

        // The first evaluates the prompt; each fork evaluates only the last token (for its logits).
        Assert.Equal((L, 0), (shared[0].Done.PromptEvalCount, shared[0].Done.CachedPromptCount));
        foreach (var fork in shared[1..]) Assert.Equal((1, L - 1), (fork.Done.PromptEvalCount, fork.Done.CachedPromptCount));
        Assert.Equal(N - 1, stats.DeferredRequests - deferredBefore);
        Assert.Equal(L + N - 1, stats.PromptTokensEvaluated - evaluatedBefore);

        // Forking changes nothing about what is sampled: each equals its seed's unshared run.
        for (int i = 0; i < N; i++)
        {
            var solo = await SoloAsync(model.Weights, prompt, (uint)(40 + i), 24);
            Assert.Equal((solo.Text, solo.Done.EvalCount), (shared[i].Text, shared[i].Done.EvalCount));
        }
        Assert.True(shared.Select(s => s.Text).Distinct().Count() > 1, "different seeds sample different text");
    }

    [Fact]
    public async Task A_cancelled_leader_hands_what_it_evaluated_to_its_followers()
    {
        // The prompt in 8-token chunks: the leader is still prefilling when it is cancelled.
        using var runner = Create(model.Weights, parallel: N, cachedSequences: 2, stepTokenBudget: 8);
        var prompt = Prompt(runner, 10);
        int L = prompt.Length;
        using var busy = await OccupyAllAsync(runner);
        var stats = runner.Stats;
        long deferredBefore = stats.DeferredRequests, evaluatedBefore = stats.PromptTokensEvaluated;

        using var leaderGone = new CancellationTokenSource();
        var leader = runner.Submit(Request(prompt, 1, -1, leaderGone.Token));
        var followers = Enumerable.Range(0, N - 1).Select(i => runner.Submit(Request(prompt, (uint)(60 + i), 16))).ToList();
        busy.Cancel();
        Assert.True(SpinWait.SpinUntil(() => stats.DeferredRequests - deferredBefore == N - 1 && stats.PromptTokensEvaluated - evaluatedBefore >= 32,
            TimeSpan.FromSeconds(30)), "the followers waited for the leader, which evaluated 32 prompt tokens");
        leaderGone.Cancel();

        var cancelled = await ReadAsync(leader);
        var done = await Task.WhenAll(followers.Select(ReadAsync));
        Assert.Equal(FinishReason.Cancelled, cancelled.Done.Reason);
        int handedOver = cancelled.Done.PromptEvalCount;
        Assert.InRange(handedOver, 32, L - 1);
        // The first follower continues from the leader's cells; the others fork it in turn.
        Assert.Equal((L - handedOver, handedOver), (done[0].Done.PromptEvalCount, done[0].Done.CachedPromptCount));
        foreach (var fork in done[1..]) Assert.Equal((1, L - 1), (fork.Done.PromptEvalCount, fork.Done.CachedPromptCount));
        Assert.Equal(L + N - 2, stats.PromptTokensEvaluated - evaluatedBefore);
        for (int i = 0; i < N - 1; i++)
            Assert.Equal((await SoloAsync(model.Weights, prompt, (uint)(60 + i), 16, stepTokenBudget: 8)).Text, done[i].Text);
    }

    [Fact]
    public async Task A_waiting_follower_keeps_its_place_ahead_of_later_requests()
    {
        // Two sequences: the leader and its waiting follower hold both, so the later, unrelated
        // request starts only once one of them is done instead of taking the follower's place.
        using var runner = Create(model.Weights, parallel: 2, cachedSequences: 2);
        var prompt = Prompt(runner, 6);
        var other = runner.Tokenize("A completely different request", true, false);
        using var busy = await OccupyAllAsync(runner);

        var log = new List<string>();
        async Task Run(string name, GenerationStream s)
        {
            await foreach (var e in s.Events.ReadAllAsync())
                lock (log) log.Add(e is GenerationCompleted ? name + " done" : name + " output");
        }
        var leader = Run("leader", runner.Submit(Request(prompt, 1, 8)));
        var follower = Run("follower", runner.Submit(Request(prompt, 2, 8)));
        var later = Run("later", runner.Submit(Request(other, 3, 8)));
        busy.Cancel();
        await Task.WhenAll(leader, follower, later);

        int firstDone = log.FindIndex(e => e.EndsWith(" done"));
        Assert.NotEqual("later done", log[firstDone]);
        Assert.True(log.FindIndex(e => e.StartsWith("later")) > firstDone, string.Join(", ", log));
    }

    [Fact]
    public async Task A_waiting_request_whose_client_leaves_completes_as_cancelled()
    {
        using var runner = Create(model.Weights, parallel: N, cachedSequences: 2, stepTokenBudget: 8);
        var prompt = Prompt(runner, 10);
        using var busy = await OccupyAllAsync(runner);
        long deferredBefore = runner.Stats.DeferredRequests;

        var leader = runner.Submit(Request(prompt, 1, 4));
        using var gone = new CancellationTokenSource();
        var follower = runner.Submit(Request(prompt, 2, 4, gone.Token));
        busy.Cancel();
        Assert.True(SpinWait.SpinUntil(() => runner.Stats.DeferredRequests > deferredBefore, TimeSpan.FromSeconds(30)), "the follower waits for the leader");
        gone.Cancel(); // the leader needs ~30 steps for its prompt: the follower is still waiting

        var left = await ReadAsync(follower);
        Assert.Equal((FinishReason.Cancelled, 0, 0), (left.Done.Reason, left.Done.PromptEvalCount, left.Done.EvalCount));
        Assert.Equal(4, (await ReadAsync(leader)).Done.EvalCount);
    }
}
