using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LLama;
using LLama.Common;
using LLama.Native;
using Inference.Engine.Backend;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Benchmarks;

/// <summary>
/// What batching can gain on this machine at most: the time of one bare llama_decode step with
/// 1, 2, 4, 8 and 16 sequences (one token each, no scheduler), so the aggregate-throughput ceiling
/// n / (step(n) / step(1)) can be set against what the server reaches; and the bare prefill rate of one
/// 512-token prompt (one llama_decode), the ceiling of the server's prefill row.
/// </summary>
internal static class BatchCeiling
{
    public static int Run(string[] args)
    {
        string model = Arg(args, "--model") ?? throw new ArgumentException("--model PATH is required");
        int threads = int.Parse(Arg(args, "--threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        int steps = int.Parse(Arg(args, "--steps") ?? "32", CultureInfo.InvariantCulture);
        string? json = Arg(args, "--json");
        int[] sizes = [1, 2, 4, 8, 16];

        // --natives DIR: the bare decode of a llama.cpp build of one's own (the server's Inference:NativeLibraryPath),
        // e.g. the one llama-server was built from, instead of LLamaSharp's bundled library.
        if (Arg(args, "--natives") is { } natives)
            NativeBackend.Initialize(BackendKind.Cpu, NativeLibraryDirectory.Open(natives), NullLogger.Instance);
        var parameters = new ModelParams(model) { ContextSize = 256 * 16, SeqMax = 16, KVUnified = false, Threads = threads, BatchThreads = threads };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var handle = context.NativeHandle;
        var prompt = weights.Tokenize("the old man walked to the river", true, false, System.Text.Encoding.UTF8);
        var batch = new LLamaBatch();
        for (int s = 0; s < 16; s++) batch.AddRange(prompt, 0, (LLamaSeqId)s, true);
        handle.Decode(batch);

        var stepMs = new Dictionary<int, double>();
        foreach (int n in sizes)
        {
            // Rounds of --steps timed steps (default 32, as llama-batched-bench -ntg 32 times), each from the end of the
            // prompt after a few untimed steps (the first decode of a new batch shape sets up its graph): at least five,
            // and until half a second is timed; the median round counts. A tiny model's step takes well under a
            // millisecond, so one round is too short to time steadily, and one long run would time steps over a longer
            // and longer cache; five rounds keep a stall of the machine in one round from moving the median.
            var rounds = new List<double>();
            var timedTotal = Stopwatch.StartNew();
            while (rounds.Count < 5 || (timedTotal.ElapsedMilliseconds < 500 && rounds.Count < 50))
            {
                int pos = prompt.Length;
                void Step()
                {
                    batch.Clear();
                    for (int s = 0; s < n; s++) batch.Add(prompt[^1], pos, (LLamaSeqId)s, true);
                    handle.Decode(batch);
                    pos++;
                }
                for (int i = 0; i < 4; i++) Step();
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < steps; i++) Step();
                rounds.Add(sw.Elapsed.TotalMilliseconds / steps);
                for (int s = 0; s < 16; s++) handle.MemorySequenceRemove((LLamaSeqId)s, prompt.Length, -1);
            }
            rounds.Sort();
            stepMs[n] = rounds[rounds.Count / 2];
        }

        double prefillTokensPerSecond = PrefillRate(weights, threads);

        var result = new
        {
            model = Path.GetFileName(model),
            threads,
            prefill_512_tok_s = prefillTokensPerSecond,
            step_ms = stepMs.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            throughput_ceiling = stepMs.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Key * stepMs[1] / kv.Value),
        };
        var text = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(text);
        if (json is not null) File.WriteAllText(json, text);
        return 0;
    }

    /// <summary>
    /// Tokens per second of one 512-token prompt decoded in one llama_decode (batch and micro-batch 512, as the server
    /// steps), logits for its last token only; the median of at least five rounds after an untimed one.
    /// </summary>
    private static double PrefillRate(LLamaWeights weights, int threads)
    {
        const int promptTokens = 512;
        var parameters = new ModelParams(string.Empty)
        {
            ContextSize = 1024, SeqMax = 1, BatchSize = promptTokens, UBatchSize = promptTokens, Threads = threads, BatchThreads = threads,
        };
        using var context = weights.CreateContext(parameters);
        var words = weights.Tokenize(string.Join(' ', Enumerable.Repeat("the old man walked to the river and sat down by the water", 64)), true, false, System.Text.Encoding.UTF8);
        var prompt = words.AsSpan(0, promptTokens).ToArray();
        var batch = new LLamaBatch();
        var seconds = new List<double>();
        var timedTotal = Stopwatch.StartNew();
        for (int round = 0; round < 6 || (timedTotal.ElapsedMilliseconds < 2000 && round < 20); round++)
        {
            context.NativeHandle.MemorySequenceRemove(LLamaSeqId.Zero, -1, -1);
            batch.Clear();
            for (int i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
            var sw = Stopwatch.StartNew();
            var result = context.NativeHandle.Decode(batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"the {promptTokens}-token prefill failed: {result}");
            if (round > 0) seconds.Add(sw.Elapsed.TotalSeconds);
        }
        seconds.Sort();
        return promptTokens / seconds[seconds.Count / 2];
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
