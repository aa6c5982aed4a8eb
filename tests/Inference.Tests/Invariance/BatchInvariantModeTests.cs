using System.Text.Json.Nodes;
using Inference.Tests.Support;
using Xunit.Abstractions;

namespace Inference.Tests.Invariance;

/// <summary>Eight sequences, batch-invariant mode on (Inference:BatchInvariant).</summary>
public sealed class BatchInvariantServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:NumParallel=8", "--Inference:BatchInvariant=true"];
}

/// <summary>The same server with the mode off (the default), to document how often batching changes an output.</summary>
public sealed class BatchVariantServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:NumParallel=8"];
}

/// <summary>
/// Issue 18 through HTTP: seeded, sampled (temperature 0.8) generations run alone and then under concurrent load
/// (different prompt lengths, random arrival times, prefix-cache hits from shared prompt beginnings and misses).
/// With Inference:BatchInvariant every output equals its solo run; with the mode off the mismatch rate is reported.
/// </summary>
public sealed class BatchInvariantModeTests(BatchInvariantServer invariant, BatchVariantServer variant, ITestOutputHelper output)
    : IClassFixture<BatchInvariantServer>, IClassFixture<BatchVariantServer>
{
    private sealed record Job(string Prompt, uint Seed, int Predict, int DelayMs);

    private static object Body(Job job) => new
    {
        model = "stories",
        prompt = job.Prompt,
        stream = false,
        options = new { temperature = 0.8, seed = job.Seed, num_predict = job.Predict },
    };

    private static async Task<(string Text, int EvalCount)> Generate(TestServer server, Job job)
    {
        var (status, body) = await server.PostAsync("/api/generate", Body(job));
        Assert.Equal(200, status);
        return ((string)body!["response"]!, (int)body["eval_count"]!);
    }

    /// <summary>Each job alone, one after another; then all of them concurrently, each after its delay. Returns the jobs whose outputs differ.</summary>
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

    /// <summary>The issue's reproduction: "Once upon a time", seeds 1-8, num_predict 160, all 8 at once.</summary>
    private static List<Job> IssueJobs() => Enumerable.Range(1, 8).Select(seed => new Job("Once upon a time", (uint)seed, 160, 0)).ToList();

    [Fact]
    public async Task The_issues_eight_seeds_at_once_match_their_solo_runs_with_the_mode_on()
    {
        var differing = await SoloThenConcurrent(invariant, IssueJobs());
        Assert.Empty(differing);
        var off = await SoloThenConcurrent(variant, IssueJobs());
        output.WriteLine($"issue reproduction, mode off: {off.Count}/8 differ from their solo runs (seeds {string.Join(",", off.Select(i => i + 1))})");
    }

    private static readonly string[] Prompts =
    [
        "Once upon a time",
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.",
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball under a tree.",
        "Tom and Sue went to the shop",
        "The cat sat on the mat and looked at the bird in the tree. The bird sang a happy song. The cat wanted to play with the bird, but the bird flew away to the sky.",
        "A dog",
        "Once upon a time, there was a big bear who lived in the woods",
    ];

    /// <summary>200 jobs: mixed prompt lengths (1-45 tokens, shared beginnings for cache hits), seeds, lengths, arrival times over ~3 s.</summary>
    private static List<Job> MixedJobs(int count)
    {
        var random = new Random(18);
        return Enumerable.Range(0, count).Select(i => new Job(
            Prompts[random.Next(Prompts.Length)], (uint)(1000 + i), 24 + random.Next(0, 4) * 16, random.Next(0, 3000))).ToList();
    }

    [Fact]
    public async Task Two_hundred_seeded_requests_under_mixed_concurrent_load_match_their_solo_runs_with_the_mode_on()
    {
        var jobs = MixedJobs(200);
        var differing = await SoloThenConcurrent(invariant, jobs);
        Assert.Empty(differing);
        var metrics = await invariant.Client.GetStringAsync("/metrics");
        double reused = PrometheusText.Value(metrics, "inference_prompt_tokens_cached_total{model=\"stories:latest\"}");
        output.WriteLine($"mode on: 0/{jobs.Count} differ; prompt tokens reused from the prefix cache: {reused}");
        Assert.True(reused > 0, "the mix should include prefix-cache hits");

        var off = await SoloThenConcurrent(variant, jobs);
        output.WriteLine($"mode off: {off.Count}/{jobs.Count} differ from their solo runs");
    }
}
