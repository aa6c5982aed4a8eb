using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Inference.Engine.Scheduling;
using LLama;
using LLama.Common;
using LLama.Sampling;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Benchmarks;

/// <summary>
/// Single-stream decode tokens/s of LLamaSharp's plain StatelessExecutor and of our ModelRunner
/// (with the server's default parallelism and prefix cache), same model, threads, prompt and greedy
/// sampling, runs interleaved in one process. Decode rate = (pieces - 1) / (last piece - first piece).
/// </summary>
internal static class DecodeBaseline
{
    public static async Task<int> RunAsync(string[] args)
    {
        string model = Arg(args, "--model") ?? throw new ArgumentException("--model PATH is required");
        int tokens = int.Parse(Arg(args, "--tokens") ?? "64", CultureInfo.InvariantCulture);
        int threads = int.Parse(Arg(args, "--threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        int rounds = int.Parse(Arg(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        string prompt = Arg(args, "--prompt") ?? "the old man walked to the river and saw a small boat";
        string? json = Arg(args, "--json");

        var parameters = new ModelParams(model) { ContextSize = 2048, Threads = threads, BatchThreads = threads };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var runner = new ModelRunner(weights, new RunnerSettings { ContextLength = 2048, Threads = threads },
            new SchedulerStats("baseline"), NullLogger.Instance);
        var executor = new StatelessExecutor(weights, parameters);
        var inference = new InferenceParams
        {
            MaxTokens = tokens,
            SamplingPipeline = new DefaultSamplingPipeline { Temperature = 0, RepeatPenalty = 1 },
        };

        // Warm both paths once (first decode allocates buffers).
        await StatelessRateAsync(executor, prompt, inference);
        await RunnerRateAsync(runner, prompt, tokens);
        var stateless = new List<double>();
        var scheduler = new List<double>();
        for (int i = 0; i < rounds; i++)
        {
            stateless.Add(await StatelessRateAsync(executor, prompt, inference));
            scheduler.Add(await RunnerRateAsync(runner, prompt, tokens));
        }

        double s = Median(stateless), r = Median(scheduler);
        var result = new { model = Path.GetFileName(model), threads, tokens, stateless_tokens_per_s = s, scheduler_tokens_per_s = r, ratio = r / s };
        var text = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(text);
        if (json is not null) await File.WriteAllTextAsync(json, text);
        return 0;
    }

    private static async Task<double> StatelessRateAsync(StatelessExecutor executor, string prompt, InferenceParams inference)
    {
        var stamps = new List<long>();
        await foreach (var _ in executor.InferAsync(prompt, inference)) stamps.Add(Stopwatch.GetTimestamp());
        return Rate(stamps);
    }

    private static async Task<double> RunnerRateAsync(ModelRunner runner, string prompt, int tokens)
    {
        var stream = runner.Submit(new GenerationRequest
        {
            PromptTokens = runner.Tokenize(prompt, addBos: true, special: false),
            MaxTokens = tokens,
            Sampling = new SamplingSettings { Temperature = 0, RepeatPenalty = 1 },
        });
        var stamps = new List<long>();
        await foreach (var e in stream.Events.ReadAllAsync())
            if (e is TokenPiece) stamps.Add(Stopwatch.GetTimestamp());
        return Rate(stamps);
    }

    private static double Rate(List<long> stamps) =>
        stamps.Count < 2 ? 0 : (stamps.Count - 1) / Stopwatch.GetElapsedTime(stamps[0], stamps[^1]).TotalSeconds;

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
