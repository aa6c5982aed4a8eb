using Inference.Tests.Support;
using Xunit.Abstractions;

namespace Inference.Tests.Invariance;

/// <summary>Eight sequences, batch-invariant mode on, serving the generated tiny Q4_K_M model (repacked weights on the CPU).</summary>
public sealed class QuantizedBatchInvariantServer : TestServer
{
    protected override IEnumerable<string> Settings =>
        ["--Inference:NumParallel=8", "--Inference:BatchInvariant=true", "--model", $"q4km={QuantizedTinyModels.PathOf("q4_k_m")}"];
}

/// <summary>The same with the mode off, to document how often batching changes an output on quantized weights.</summary>
public sealed class QuantizedBatchVariantServer : TestServer
{
    protected override IEnumerable<string> Settings =>
        ["--Inference:NumParallel=8", "--model", $"q4km={QuantizedTinyModels.PathOf("q4_k_m")}"];
}

/// <summary>
/// Issue 18 through HTTP on Q4_K_M weights: seeded, sampled generations alone and then concurrently (mixed prompt
/// lengths, random arrival times, shared prompt beginnings for prefix-cache hits); with the mode on every output
/// equals its solo run.
/// </summary>
public sealed class QuantizedBatchInvariantModeTests(QuantizedBatchInvariantServer invariant, QuantizedBatchVariantServer variant, ITestOutputHelper output)
    : IClassFixture<QuantizedBatchInvariantServer>, IClassFixture<QuantizedBatchVariantServer>
{
    private sealed record Job(string Prompt, uint Seed, int Predict, int DelayMs);

    private static async Task<(string Text, int EvalCount)> Generate(TestServer server, Job job)
    {
        var (status, body) = await server.PostAsync("/api/generate", new
        {
            model = "q4km",
            prompt = job.Prompt,
            stream = false,
            options = new { temperature = 0.8, seed = job.Seed, num_predict = job.Predict },
        });
        Assert.Equal(200, status);
        int evalCount = (int)body!["eval_count"]!;
        Assert.Equal(job.Predict, evalCount); // random weights rarely sample the end token; the count pins the run's length
        return ((string)body["response"]!, evalCount);
    }

    private static async Task<List<int>> SoloThenConcurrent(TestServer server, IReadOnlyList<Job> jobs)
    {
        var solo = new List<(string, int)>();
        foreach (var job in jobs) solo.Add(await Generate(server, job));
        var loaded = await Task.WhenAll(jobs.Select(async job =>
        {
            await Task.Delay(job.DelayMs);
            return await Generate(server, job);
        }));
        return Enumerable.Range(0, jobs.Count).Where(i => solo[i] != loaded[i]).ToList();
    }

    private static readonly string[] Prompts =
    [
        "Once upon a time",
        "Once upon a time there was a little girl named Lily and she loved to play outside in the park with her friends",
        "Once upon a time there was a little girl named Lily and she loved to play outside in the park with her friends and one day she saw a big red ball under a tree",
        "Tom and Sue went to the shop",
        "The cat sat on the mat",
    ];

    [Fact]
    public async Task Seeded_requests_under_mixed_concurrent_load_match_their_solo_runs_with_the_mode_on()
    {
        var random = new Random(18);
        var jobs = Enumerable.Range(0, 48).Select(i => new Job(
            Prompts[random.Next(Prompts.Length)], (uint)(2000 + i), 16 + random.Next(0, 4) * 16, random.Next(0, 1500))).ToList();
        var differing = await SoloThenConcurrent(invariant, jobs);
        Assert.Empty(differing);
        var metrics = await invariant.Client.GetStringAsync("/metrics");
        double reused = PrometheusText.Value(metrics, "inference_prompt_tokens_cached_total{model=\"q4km:latest\"}");
        output.WriteLine($"Q4_K_M, mode on: 0/{jobs.Count} differ; prompt tokens reused from the prefix cache: {reused}");
        Assert.True(reused > 0, "the mix should include prefix-cache hits");

        var off = await SoloThenConcurrent(variant, jobs);
        output.WriteLine($"Q4_K_M, mode off: {off.Count}/{jobs.Count} differ from their solo runs");
    }
}
