using Inference.Engine.Scheduling;
using LLama.Native;
using static Inference.Tests.Scheduling.RunnerHarness;

namespace Inference.Tests.Scheduling;

/// <summary>
/// Which prompts yield to running streams: requests that arrive together are prefilled together (as llama.cpp's
/// server does), a prompt that arrives while streams are generating is paced so they keep their rhythm.
/// The decode seam records every step's shape (sequences, tokens).
/// </summary>
public sealed class ArrivalPacingTests(StoriesWeights model) : IClassFixture<StoriesWeights>
{
    private static readonly string[] Openings =
        ["Once upon a time", "Tom and Sue went", "A little bird sang", "The big dog ran", "Lily found a shiny",
         "One day a cat", "Ben liked to play", "Mom said that the"];

    [Fact]
    public async Task Requests_arriving_while_the_first_prompt_is_evaluated_are_prefilled_together_in_the_next_step()
    {
        using var runner = Create(model.Weights, parallel: 8, cachedSequences: 0, stepTokenBudget: 512);
        var decode = runner.DecodeStep;
        var steps = new List<(int Sequences, int Tokens)>();
        using var othersQueued = new ManualResetEventSlim();
        runner.DecodeStep = (batch, requests) =>
        {
            int count;
            lock (steps)
            {
                steps.Add((requests.Count, batch.TokenCount));
                count = steps.Count;
            }
            // The first prompt's step lasts until the other seven are queued: they arrive while it is evaluated.
            if (count == 1) othersQueued.Wait(TimeSpan.FromSeconds(30));
            return decode(batch, requests);
        };
        var prompts = Openings.Select(o => runner.Tokenize(o + " in the park with a red ball and a blue kite.", true, false)).ToArray();

        var first = runner.Submit(Request(prompts[0], 1, 4));
        await UntilAsync(() => { lock (steps) return steps.Count == 1; });
        var rest = prompts[1..].Select((p, i) => runner.Submit(Request(p, (uint)(2 + i), 4))).ToList();
        othersQueued.Set();
        var outcomes = await Task.WhenAll(rest.Prepend(first).Select(ReadAsync));

        // Step 1: the first prompt alone. Step 2: its first generated token and the other seven prompts whole
        // (paced against the first stream they would have taken 4 tokens a step: dozens of steps). Then 8 streams.
        Assert.Equal((1, prompts[0].Length), steps[0]);
        Assert.Equal((8, 1 + outcomes[1..].Sum(o => o.Done.PromptEvalCount)), steps[1]);
        Assert.Equal((8, 8), steps[2]);
        Assert.All(outcomes, o => Assert.Equal(4, o.Done.EvalCount));
    }

    [Fact]
    public async Task A_prompt_arriving_while_a_stream_generates_is_paced_in_chunks()
    {
        using var runner = Create(model.Weights, parallel: 2, cachedSequences: 0, stepTokenBudget: 512);
        var decode = runner.DecodeStep;
        var late = runner.Tokenize(string.Concat(Enumerable.Repeat("The little dog liked to run in the big green park with his friend. ", 8)), true, false);
        var lateSteps = new List<int>();
        int stepsSoFar = 0;
        runner.DecodeStep = (batch, requests) =>
        {
            Interlocked.Increment(ref stepsSoFar);
            if (requests.Any(r => r.PromptTokens == late)) lock (lateSteps) lateSteps.Add(batch.TokenCount);
            return decode(batch, requests);
        };
        using var busy = new CancellationTokenSource();
        // It generates throughout (1,500 tokens before it may end).
        var stream = runner.Submit(Request(runner.Tokenize("Busy", true, false), 1, -1, busy.Token, grammar: LongGrammar));
        var streaming = ReadAsync(stream);
        await UntilAsync(() => Volatile.Read(ref stepsSoFar) >= 20); // generating, the pacer has seen decode-only steps

        var outcome = await ReadAsync(runner.Submit(Request(late, 2, 1)));
        busy.Cancel();
        await streaming;

        int evaluated = outcome.Done.PromptEvalCount;
        Assert.Equal(late.Length, evaluated + outcome.Done.CachedPromptCount);
        // Every step that held the late prompt also held the stream's token; the prompt came in several chunks.
        Assert.True(lateSteps.Count >= 3, $"{evaluated} prompt tokens in {lateSteps.Count} steps: {string.Join(", ", lateSteps)}");
        Assert.Equal(evaluated + lateSteps.Count, lateSteps.Sum());
    }

    [Fact]
    public async Task A_burst_coming_just_after_an_idle_runner_took_its_first_request_is_prefilled_with_it_in_one_step()
    {
        using var runner = Create(model.Weights, parallel: 8, cachedSequences: 0, stepTokenBudget: 512, burstQuietPeriod: TimeSpan.FromSeconds(1));
        var steps = new List<(int Sequences, int Tokens)>();
        int taught = await TeachSlowPromptsAsync(runner, steps, (batch, requests) => (requests.Count, batch.TokenCount));

        var prompts = Openings[..4].Select((o, i) => runner.Tokenize(
            o + " in the park." + (i == 0 ? string.Concat(Enumerable.Repeat(" The little dog liked to run.", 12)) : ""), true, false)).ToArray();
        Assert.InRange(prompts[0].Length, 100, 400); // a long first prompt, and the burst fits one step of 512
        var first = runner.Submit(Request(prompts[0], 2, 2));
        // The runner has taken the first request; the others come a moment later, as a burst's do over HTTP.
        await UntilAsync(() => runner.Stats.ActiveSequences == 1);
        var rest = prompts[1..].Select((p, i) => runner.Submit(Request(p, (uint)(3 + i), 2))).ToList();
        var outcomes = await Task.WhenAll(rest.Prepend(first).Select(ReadAsync));

        // Without the wait the first prompt would take a step alone, and the other three would wait it out.
        Assert.Equal((4, prompts.Sum(p => p.Length)), steps[taught]);
        Assert.Equal((4, 4), steps[taught + 1]);
        Assert.All(outcomes, o => Assert.Equal(2, o.Done.EvalCount));
    }

    [Fact]
    public async Task New_prompts_prefilled_together_take_consecutive_ids_shortest_first()
    {
        // llama.cpp splits a step into micro-batches of consecutive sequence ids with the same token count each (one pass
        // over the weights per micro-batch): lengths that rise with the id leave one micro-batch per distinct length.
        using var runner = Create(model.Weights, parallel: 8, cachedSequences: 0, stepTokenBudget: 512, burstQuietPeriod: TimeSpan.FromSeconds(1));
        var steps = new List<int[]>();
        int taught = await TeachSlowPromptsAsync(runner, steps, (batch, _) => Inference.Engine.Backend.BatchDecoder.SequenceIdsOf(batch));

        // Submitted longest first: in arrival order the ids would hold falling lengths.
        var prompts = Openings[..4].Select((o, i) => runner.Tokenize(o + string.Concat(Enumerable.Repeat(" and the sun", 2 * (3 - i))) + " in the park.", true, false)).ToArray();
        Assert.True(prompts[0].Length > prompts[1].Length && prompts[1].Length > prompts[2].Length && prompts[2].Length > prompts[3].Length);
        var outcomes = await Task.WhenAll(prompts.Select((p, i) => runner.Submit(Request(p, (uint)(2 + i), 2))).Select(ReadAsync));

        var ids = steps[taught];
        Assert.Equal(prompts.Sum(p => p.Length), ids.Length);
        // Tokens by sequence, in batch order: consecutive ids, the shortest prompt on the lowest.
        var perSequence = ids.Distinct().Select(id => (Id: id, Tokens: ids.Count(x => x == id))).ToList();
        Assert.Equal(Enumerable.Range(perSequence[0].Id, 4), perSequence.Select(s => s.Id));
        Assert.Equal(prompts.Select(p => p.Length).Order(), perSequence.Select(s => s.Tokens));
        Assert.All(outcomes, o => Assert.Equal(2, o.Done.EvalCount));
        Assert.Equal(prompts.Select(p => p.Length), outcomes.Select(o => o.Done.PromptEvalCount));
    }

    /// <summary>
    /// Records every step with <paramref name="record"/>, and makes the runner's first prompt (one token) take 1.5 s: the
    /// runner learns that prompts are slow here, as a 1B model's are. A burst's prompt is then expected to take minutes, so
    /// the runner waits the whole quiet period the test set (1 s, below 1 % of that): room for a busy test machine between
    /// the first request of a burst and the rest. Returns how many steps that first prompt took.
    /// </summary>
    private static async Task<int> TeachSlowPromptsAsync<T>(ModelRunner runner, List<T> steps,
        Func<LLamaBatch, IReadOnlyList<GenerationRequest>, T> record)
    {
        var decode = runner.DecodeStep;
        runner.DecodeStep = (batch, requests) =>
        {
            int count;
            lock (steps)
            {
                steps.Add(record(batch, requests));
                count = steps.Count;
            }
            if (count == 1) Thread.Sleep(1500);
            return decode(batch, requests);
        };
        await ReadAsync(runner.Submit(Request([runner.Model.Vocab.BOS!.Value], 1, 1)));
        int taught = steps.Count;
        await UntilAsync(() => runner.Stats.ActiveSequences == 0);
        return taught;
    }
}
