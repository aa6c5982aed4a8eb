using Xunit.Abstractions;
using Inference.Engine.Scheduling;
using Inference.Tests.Support;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Inference.Tests.Scheduling;

/// <summary>
/// Managed bytes allocated per generated token through the runner (batch, decode, sampling, UTF-8 text, stop
/// filter, the channel to the reader and the reader itself), without log-probabilities. Bytes, not time: the
/// count does not depend on how busy the machine is. A long and a short generation of the same request are
/// measured and subtracted, so what a request costs once (its slot, sampler, channel) cancels out and only
/// what each token costs is left. The tiny model has a 32,000-token vocabulary: anything proportional to
/// it in managed code (a logits copy, a candidate array) would cost at least 32 KB per token.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class PerTokenAllocationTests(ITestOutputHelper output)
{
    /// <summary>
    /// Measured 2026-12-02 on the tiny model: 193 bytes per token with one sequence, 131 with four (the decoded
    /// string, the TokenPiece, the channel's and the reader's share). Before BatchDecoder it was 12,759 and 3,285:
    /// LLamaSharp's decode allocated about 12.7 KB per step (more with a larger batch capacity).
    /// </summary>
    private const double MaxBytesPerToken = 256;

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Generating_a_token_allocates_a_few_bytes_whatever_the_vocabulary(int sequences)
    {
        using var weights = LLamaWeights.LoadFromFile(new ModelParams(TestModels.TinyRandomLlama2) { ContextSize = 2048, Threads = 1, GpuLayerCount = 0 });
        Assert.Equal(32000, weights.NativeHandle.Vocab.Count);
        using var runner = RunnerHarness.Create(weights, parallel: sequences, cachedSequences: 0);
        var prompt = runner.Tokenize("The sun", addBos: true, special: false);

        // Once for the JIT (tiered compilation promotes the hot loop after 30 calls), then short and long.
        await GenerateAsync(runner, prompt, sequences, 200);
        var (shortBytes, shortTokens) = await GenerateAsync(runner, prompt, sequences, 40);
        var (longBytes, longTokens) = await GenerateAsync(runner, prompt, sequences, 440);

        Assert.True(longTokens - shortTokens >= 300 * sequences, $"random weights should rarely stop early: {shortTokens} and {longTokens} tokens");
        double perToken = (double)(longBytes - shortBytes) / (longTokens - shortTokens);
        output.WriteLine($"{sequences} sequence(s): {perToken:F1} bytes per token ({longBytes - shortBytes} bytes for {longTokens - shortTokens} tokens)");
        Assert.True(perToken <= MaxBytesPerToken, $"{perToken:F0} bytes per token with {sequences} sequence(s), at most {MaxBytesPerToken} expected");
    }

    /// <summary>Bytes allocated in the process while <paramref name="sequences"/> greedy generations run together, and the tokens they made.</summary>
    private static async Task<(long Bytes, int Tokens)> GenerateAsync(ModelRunner runner, LLamaToken[] prompt, int sequences, int maxTokens)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var streams = new List<GenerationStream>();
        for (int i = 0; i < sequences; i++)
            streams.Add(runner.Submit(new GenerationRequest
            {
                PromptTokens = prompt,
                MaxTokens = maxTokens,
                Sampling = new SamplingSettings { Temperature = 0, RepeatPenalty = 1 },
            }));
        int tokens = 0;
        foreach (var stream in streams) tokens += (await RunnerHarness.ReadAsync(stream)).Done.EvalCount;
        return (GC.GetTotalAllocatedBytes(precise: true) - before, tokens);
    }
}

/// <summary>Test classes that measure the whole process (allocated bytes): xunit runs them after the others, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
