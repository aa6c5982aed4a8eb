using System.Text;
using Inference.Engine.Scheduling;
using Inference.Tests.Support;
using LLama;
using LLama.Common;
using LLama.Native;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Tests.Scheduling;

/// <summary>
/// stories260K, loaded once for a test class that drives <see cref="ModelRunner"/> directly. Its
/// peaked distributions keep sampled text stable under the float-level differences that batch
/// composition makes (a flat random-weight model turns those into different tokens).
/// </summary>
public sealed class StoriesWeights : IDisposable
{
    public LLamaWeights Weights { get; } =
        LLamaWeights.LoadFromFile(new ModelParams(TestModels.Stories260K) { ContextSize = 2048, Threads = 2, GpuLayerCount = 0 });

    public void Dispose() => Weights.Dispose();
}

/// <summary>llama-2-tiny-random (random weights, the 32,000-token Llama 2 vocabulary), loaded once for a test class.</summary>
public sealed class TinyRandomWeights : IDisposable
{
    public LLamaWeights Weights { get; } =
        LLamaWeights.LoadFromFile(new ModelParams(TestModels.TinyRandomLlama2) { ContextSize = 2048, Threads = 2, GpuLayerCount = 0 });

    public void Dispose() => Weights.Dispose();
}

/// <summary>What one generation produced.</summary>
public sealed record Outcome(string Text, GenerationCompleted Done);

/// <summary>Helpers for tests that submit to a runner themselves rather than through HTTP.</summary>
public static class RunnerHarness
{
    /// <remarks>llama.cpp aborts the process when a step's budget is below the sequence count (its output buffer is sized by it).</remarks>
    public static ModelRunner Create(LLamaWeights weights, int parallel, int cachedSequences, int stepTokenBudget = 16, int draftTokens = 0,
        TimeSpan? burstQuietPeriod = null) =>
        new(weights, new RunnerSettings
        {
            DraftTokens = draftTokens,
            BurstQuietPeriod = burstQuietPeriod ?? new RunnerSettings().BurstQuietPeriod,
            ContextLength = 2048,
            Parallel = parallel,
            CachedSequences = cachedSequences,
            StepTokenBudget = stepTokenBudget,
            Threads = 1, // one thread: no ggml barriers to stall on a busy two-core test machine
        }, new SchedulerStats("test"), NullLogger.Instance);

    public static GenerationRequest Request(LLamaToken[] prompt, uint seed, int maxTokens, CancellationToken ct = default,
        string? grammar = null) => new()
    {
        PromptTokens = prompt,
        MaxTokens = maxTokens,
        Sampling = new SamplingSettings { Temperature = 0.8f, Seed = seed, Grammar = grammar },
        Cancellation = ct,
    };

    public static async Task<Outcome> ReadAsync(GenerationStream stream)
    {
        var text = new StringBuilder();
        await foreach (var e in stream.Events.ReadAllAsync())
        {
            switch (e)
            {
                case TokenPiece piece: text.Append(piece.Text); break;
                case GenerationCompleted done: return new Outcome(text.ToString(), done);
                case GenerationFailed failed: throw new InvalidOperationException(failed.Message);
            }
        }
        throw new InvalidOperationException("the stream ended without a result");
    }

    /// <summary>The same request alone on a runner with no prefix cache: nothing shared, the whole prompt evaluated.</summary>
    public static async Task<Outcome> SoloAsync(LLamaWeights weights, LLamaToken[] prompt, uint seed, int maxTokens, int stepTokenBudget = 16)
    {
        using var runner = Create(weights, parallel: 1, cachedSequences: 0, stepTokenBudget);
        var outcome = await ReadAsync(runner.Submit(Request(prompt, seed, maxTokens)));
        Assert.Equal(prompt.Length, outcome.Done.PromptEvalCount);
        return outcome;
    }

    /// <summary>
    /// Occupies every sequence of the runner with endless generations, so that requests submitted
    /// meanwhile queue up and are admitted in one go when the returned source is cancelled.
    /// </summary>
    public static async Task<CancellationTokenSource> OccupyAllAsync(ModelRunner runner)
    {
        var busy = new CancellationTokenSource();
        var prompt = runner.Tokenize("Busy", true, false);
        var generating = new List<Task>();
        for (int i = 0; i < runner.Settings.Parallel; i++)
        {
            var stream = runner.Submit(Request(prompt, (uint)i, -1, busy.Token, grammar: LongGrammar));
            var first = new TaskCompletionSource();
            generating.Add(first.Task);
            _ = DrainAsync(stream, first);
        }
        // Every one has evaluated its prompt and produced text: from now on the loop only decodes.
        await Task.WhenAll(generating).WaitAsync(TimeSpan.FromSeconds(30));
        return busy;
    }

    /// <summary>
    /// Allows end-of-sequence only after 1,500 tokens: a generation that runs until it is cancelled. (A grammar
    /// that never completes, such as root ::= "a" root, is refused before it starts.)
    /// </summary>
    public const string LongGrammar = "root ::= \"a\"{1500}";

    private static async Task DrainAsync(GenerationStream stream, TaskCompletionSource first)
    {
        await foreach (var e in stream.Events.ReadAllAsync())
        {
            if (e is TokenPiece) first.TrySetResult();
            // A busy generation that ends before it produced text (refused, failed) occupies nothing.
            if (e is GenerationFailed failed) first.TrySetException(new InvalidOperationException(failed.Message));
        }
        first.TrySetException(new InvalidOperationException("a busy generation ended before it produced text"));
    }

    public static async Task UntilAsync(Func<bool> condition, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(1);
        }
    }
}
