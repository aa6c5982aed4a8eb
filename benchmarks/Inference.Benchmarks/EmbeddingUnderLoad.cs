using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Inference.Engine.Generation;
using Inference.Engine.Scheduling;
using LLama;
using LLama.Common;
using LLama.Native;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Benchmarks;

/// <summary>
/// Embeddings while streams generate: 4 streams decode on a model's ModelRunner while 64 short texts
/// are embedded on the same model, as 64 concurrent one-text requests and as one request of 64 texts.
/// Reports the streams' inter-token p50/p99 during the embedding work and the embedding throughput
/// (texts/s), for: no embeddings (the streams alone), "before" (the code up to ff9032c, kept here
/// verbatim: each request a Task.Run that takes a lock on the embedding context and decodes its own
/// inputs at the full thread count), and the EmbeddingRunner ("after": one loop, a bounded queue,
/// inputs of queued requests packed into shared decodes, decodes taking turns with the generation
/// loop's and paced to about one generation step while streams generate), and the same runner
/// decoding alongside the generation loop instead (no turns). Rounds are interleaved; medians are printed.
/// </summary>
internal static class EmbeddingUnderLoad
{
    private const int Streams = 4;
    private const int SequencesPerBatch = 16;

    public static async Task<int> RunAsync(string[] args)
    {
        string model = Arg(args, "--model") ?? TestModelPath.Stories260K;
        int threads = int.Parse(Arg(args, "--threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        int texts = int.Parse(Arg(args, "--texts") ?? "64", CultureInfo.InvariantCulture);
        int rounds = int.Parse(Arg(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        int context = int.Parse(Arg(args, "--ctx") ?? "512", CultureInfo.InvariantCulture);
        string? json = Arg(args, "--json");

        var parameters = new ModelParams(model) { ContextSize = (uint)context, Threads = threads, BatchThreads = threads, GpuLayerCount = 0 };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        var stats = new SchedulerStats("embedding-under-load");
        using var generation = new ModelRunner(weights, new RunnerSettings { ContextLength = context, Parallel = Streams, Threads = threads }, stats, NullLogger.Instance);
        LLamaContext EmbeddingContext() => weights.CreateContext(new ModelParams(model)
        {
            ContextSize = (uint)context, KVUnified = true, BatchSize = (uint)context, UBatchSize = (uint)context, SeqMax = SequencesPerBatch,
            Embeddings = true, PoolingType = LLamaPoolingType.Mean, Threads = threads, BatchThreads = threads, GpuLayerCount = 0,
        });
        var legacy = new LegacyEmbedder(EmbeddingContext());
        EmbeddingRunner Runner(bool yieldToGeneration) => new(EmbeddingContext(), new EmbeddingRunnerSettings
        {
            ContextLength = context, SequencesPerBatch = SequencesPerBatch, YieldToGeneration = yieldToGeneration,
        }, () => stats.ActiveSequences > 0, NullLogger.Instance);
        using var after = Runner(yieldToGeneration: true);
        using var alongside = Runner(yieldToGeneration: false);
        // As EmbeddingService does: the generation loop's decodes take turns with the yielding runner's.
        var decode = generation.DecodeStep;
        generation.DecodeStep = (batch, requests) => after.GenerationDecode(() => decode(batch, requests));

        string[] sentences = ["The cat sat on the mat.", "A dog ran in the park.", "Tom likes red balls.", "The sun is hot today.",
            "Lily found a shiny stone.", "The bird sang a song.", "Ben ate a big apple.", "The boat went down the river."];
        var inputs = Enumerable.Range(0, texts).Select(i => weights.Tokenize($"{sentences[i % sentences.Length]} ({i})", true, false, System.Text.Encoding.UTF8)).ToList();

        var variants = new (string Name, Func<bool, Task>? Embed)[]
        {
            ("no embeddings", null),
            ("before: Task.Run + lock", asOne => asOne ? legacy.EmbedAsync(inputs) : Task.WhenAll(inputs.Select(t => legacy.EmbedAsync([t])))),
            ("after: runner, taking turns", asOne => asOne ? after.EmbedAsync(inputs, null, default) : Task.WhenAll(inputs.Select(t => after.EmbedAsync([t], null, default)))),
            ("runner alongside (no turns)", asOne => asOne ? alongside.EmbedAsync(inputs, null, default) : Task.WhenAll(inputs.Select(t => alongside.EmbedAsync([t], null, default)))),
        };
        var prompt = weights.Tokenize("Once upon a time, there was a little girl named", true, false, System.Text.Encoding.UTF8);

        // Warm every path once (first decodes allocate buffers).
        foreach (var (_, embed) in variants) await MeasureAsync(generation, prompt, embed, asOne: false, texts);

        Console.WriteLine($"embeddings under load: {Path.GetFileName(model)}, {threads} threads, {Streams} streams, {texts} texts, num_ctx {context}, {rounds} rounds (medians)");
        var results = new List<object>();
        foreach (bool asOne in new[] { false, true })
        {
            var samples = variants.ToDictionary(v => v.Name, _ => new List<Sample>());
            for (int r = 0; r < rounds; r++)
                foreach (var (name, embed) in variants)
                    samples[name].Add(await MeasureAsync(generation, prompt, embed, asOne, texts));

            Console.WriteLine();
            Console.WriteLine(asOne ? $"one request of {texts} texts" : $"{texts} concurrent requests of one text");
            Console.WriteLine($"{"",-40} {"ITL p50 ms",10} {"ITL p99 ms",10} {"texts/s",9} {"p99 vs none",12} {"texts/s vs before",18}");
            var none = Median(samples[variants[0].Name].Select(s => s.P99));
            var before = Median(samples[variants[1].Name].Select(s => s.TextsPerSecond));
            foreach (var (name, _) in variants)
            {
                var list = samples[name];
                double p50 = Median(list.Select(s => s.P50)), p99 = Median(list.Select(s => s.P99)), rate = Median(list.Select(s => s.TextsPerSecond));
                Console.WriteLine($"{name,-40} {p50,10:F2} {p99,10:F2} {(rate > 0 ? rate.ToString("F0", CultureInfo.InvariantCulture) : "-"),9} {p99 / none,12:F2} {(rate > 0 ? (rate / before).ToString("F2", CultureInfo.InvariantCulture) : "-"),18}");
                results.Add(new { shape = asOne ? "one request" : "concurrent requests", variant = name, itl_p50_ms = p50, itl_p99_ms = p99, texts_per_s = rate });
            }
        }

        legacy.Dispose();
        if (json is not null)
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new { model = Path.GetFileName(model), threads, texts, results }, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private sealed record Sample(double P50, double P99, double TextsPerSecond);

    /// <summary>
    /// Starts the streams, waits until each has produced a token, runs the embeddings (or, without
    /// any, waits as long as the streams take for 64 tokens), then stops the streams. Inter-token gaps
    /// are those between pieces of one stream that both fall in the embedding window.
    /// </summary>
    private static async Task<Sample> MeasureAsync(ModelRunner generation, LLamaToken[] prompt, Func<bool, Task>? embed, bool asOne, int texts)
    {
        using var stop = new CancellationTokenSource();
        var stamps = Enumerable.Range(0, Streams).Select(_ => new List<long>()).ToArray();
        var started = Enumerable.Range(0, Streams).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var streams = Enumerable.Range(0, Streams).Select(i => Task.Run(() => StreamAsync(generation, prompt, i, stamps[i], started[i], stop.Token))).ToArray();
        await Task.WhenAll(started.Select(s => s.Task));

        long from = Stopwatch.GetTimestamp();
        if (embed is null) await Task.Delay(250);
        else await embed(asOne);
        long to = Stopwatch.GetTimestamp();
        stop.Cancel();
        await Task.WhenAll(streams);

        var gaps = new List<double>();
        foreach (var list in stamps)
        {
            lock (list)
                for (int k = 1; k < list.Count; k++)
                    if (list[k - 1] >= from && list[k] <= to && list[k - 1] != 0 && list[k] != 0)
                        gaps.Add(Stopwatch.GetElapsedTime(list[k - 1], list[k]).TotalMilliseconds);
        }
        gaps.Sort();
        double seconds = Stopwatch.GetElapsedTime(from, to).TotalSeconds;
        return new Sample(Percentile(gaps, 0.50), Percentile(gaps, 0.99), embed is null ? 0 : texts / seconds);
    }

    /// <summary>One stream that generates until stopped; a generation that reaches the context's end is started again (a 0 stamp marks the break).</summary>
    private static async Task StreamAsync(ModelRunner generation, LLamaToken[] prompt, int seed, List<long> stamps, TaskCompletionSource started, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var stream = generation.Submit(new GenerationRequest
            {
                PromptTokens = prompt,
                Sampling = new SamplingSettings { Seed = (uint)seed + 1 },
                Cancellation = stop,
            });
            await foreach (var e in stream.Events.ReadAllAsync())
            {
                if (e is not TokenPiece) continue;
                lock (stamps) stamps.Add(Stopwatch.GetTimestamp());
                started.TrySetResult();
            }
            lock (stamps) stamps.Add(0);
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>
    /// EmbeddingService's decode path up to ff9032c, unchanged but for the seam: each request runs
    /// on a thread-pool thread (Task.Run) that waits on the context's lock, then decodes its own
    /// inputs, up to 16 per decode, with the context's full thread count.
    /// </summary>
    private sealed class LegacyEmbedder(LLamaContext embedder) : IDisposable
    {
        public Task<List<float[]>> EmbedAsync(List<LLamaToken[]> inputs) =>
            Task.Run(() => Embed(embedder, inputs, (int)embedder.ContextSize, null, CancellationToken.None));

        private static List<float[]> Embed(LLamaContext embedder, List<LLamaToken[]> inputs, int batchTokens, int? dimensions, CancellationToken ct)
        {
            var context = embedder.NativeHandle;
            var vectors = new List<float[]>(inputs.Count);
            var batch = new LLamaBatch();
            lock (embedder)
            {
                int next = 0;
                while (next < inputs.Count)
                {
                    ct.ThrowIfCancellationRequested();
                    batch.Clear();
                    context.MemoryClear();
                    int first = next, used = 0;
                    while (next < inputs.Count && next - first < SequencesPerBatch && (used + inputs[next].Length <= batchTokens || next == first))
                    {
                        batch.AddRange(inputs[next], 0, (LLamaSeqId)(next - first), true);
                        used += inputs[next].Length;
                        next++;
                    }
                    var result = context.Decode(batch);
                    if (result != DecodeResult.Ok) throw new EmbeddingFailedException($"embedding decode failed: {result}");
                    for (int i = first; i < next; i++)
                        vectors.Add(EmbeddingService.Normalize(context.GetEmbeddingsSeq((LLamaSeqId)(i - first)).ToArray(), dimensions));
                }
            }
            return vectors;
        }

        public void Dispose() => embedder.Dispose();
    }
}
