using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Scheduling;
using LLama;
using LLama.Common;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Benchmarks;

/// <summary>
/// Grammar overhead: decode tokens/s of one stream without a grammar, with format "json" and with a few schemas,
/// on the same prompt and sampling settings, each grammar run with the grammar checked against the whole
/// vocabulary at every step (before) and only against the candidates that can be chosen (after, the default).
/// Runs are interleaved, so the ratios compare like with like. Rate = (tokens − 1) / (end − first piece).
/// </summary>
internal static class GrammarOverhead
{
    private static readonly (string Name, string Schema)[] Schemas =
    [
        ("name+color enum", """{"type":"object","properties":{"name":{"type":"string"},"color":{"type":"string","enum":["red","green","blue"]}}}"""),
        ("person", """{"type":"object","properties":{"name":{"type":"string","maxLength":40},"age":{"type":"integer"},"pet":{"enum":["cat","dog"]}},"required":["name","age","pet"]}"""),
        ("nested", """{"type":"object","properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"},"maxItems":8},"owner":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}},"required":["id","tags","owner"]}"""),
        ("array of objects", """{"type":"array","items":{"type":"object","properties":{"x":{"type":"number"},"label":{"type":"string","maxLength":20}},"required":["x","label"]},"maxItems":20}"""),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        int tokens = int.Parse(Arg(args, "--tokens") ?? "96", CultureInfo.InvariantCulture);
        int rounds = int.Parse(Arg(args, "--rounds") ?? "2", CultureInfo.InvariantCulture);
        int threads = int.Parse(Arg(args, "--threads") ?? Math.Min(Environment.ProcessorCount, 4).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        bool greedy = args.Contains("--greedy");
        string prompt = Arg(args, "--prompt") ?? "Once upon a time";
        var models = Arg(args, "--models")?.Split(',') ?? [TestModelPath.Stories260K, TestModelPath.TinyRandomLlama2];
        string? json = Arg(args, "--json");

        var grammars = new List<(string Name, string? Grammar)> { ("no grammar", null), ("format json", AnyJsonObject.Gbnf) };
        foreach (var (name, schema) in Schemas)
        {
            using var document = JsonDocument.Parse(schema);
            grammars.Add(("schema: " + name, JsonGrammar.FromSchema(document.RootElement)));
        }

        var results = new List<object>();
        Console.WriteLine($"grammar overhead: {tokens} tokens per run, {rounds} rounds x 3 seeds, {threads} threads, {(greedy ? "greedy" : "temperature 0.8, top_k 40, top_p 0.9")}");
        foreach (var model in models)
        {
            var parameters = new ModelParams(model) { ContextSize = 1024, Threads = threads, BatchThreads = threads, GpuLayerCount = 0 };
            using var weights = LLamaWeights.LoadFromFile(parameters);
            using var runner = new ModelRunner(weights, new RunnerSettings { ContextLength = 1024, Parallel = 1, CachedSequences = 0, Threads = threads },
                new SchedulerStats("grammar-overhead"), NullLogger.Instance);
            var promptTokens = runner.Tokenize(prompt, addBos: true, special: false);
            // Each configuration: (tokens, seconds) summed over runs; "before" is the whole-vocabulary grammar stage.
            var totals = new Dictionary<(string, bool), (long Tokens, double Seconds)>();
            await RateAsync(runner, promptTokens, grammars[1].Grammar, lazily: true, 1, tokens, greedy); // warm-up
            for (int round = 0; round < rounds; round++)
                foreach (uint seed in new uint[] { 1, 2, 3 })
                    foreach (var (name, grammar) in grammars)
                        foreach (bool lazily in grammar is null ? [true] : new[] { false, true })
                        {
                            var (n, s) = await RateAsync(runner, promptTokens, grammar, lazily, seed, tokens, greedy);
                            var t = totals.GetValueOrDefault((name, lazily));
                            totals[(name, lazily)] = (t.Tokens + n, t.Seconds + s);
                        }

            double Rate((string, bool) key) => totals[key].Tokens / totals[key].Seconds;
            double baseline = Rate(("no grammar", true));
            Console.WriteLine();
            bool same = weights.NativeHandle.Vocab.Count < TokenSampler.SplitFromVocabulary;
            Console.WriteLine($"{Path.GetFileName(model)} ({weights.NativeHandle.Vocab.Count} tokens{(same ? ": below " + TokenSampler.SplitFromVocabulary + " the whole vocabulary is checked either way, so before and after differ by noise only" : "")})");
            Console.WriteLine($"  {"",-26} {"tokens/s before",16} {"x slower",9} {"tokens/s after",15} {"x slower",9} {"speed-up",9} {"tokens timed (after)",21}");
            foreach (var (name, grammar) in grammars)
            {
                if (grammar is null)
                {
                    Console.WriteLine($"  {name,-26} {"",16} {"",9} {baseline,15:F1} {1.0,9:F2} {"",9} {totals[(name, true)].Tokens,21}");
                    results.Add(new { model = Path.GetFileName(model), grammar = name, after_tokens_per_s = baseline, after_ratio = 1.0 });
                    continue;
                }
                double before = Rate((name, false)), after = Rate((name, true));
                // A grammar the model finishes in a token or two leaves nothing to time (greedy runs especially).
                Console.WriteLine($"  {name,-26} {before,16:F1} {baseline / before,9:F2} {after,15:F1} {baseline / after,9:F2} {after / before,9:F2} {totals[(name, true)].Tokens,21}");
                results.Add(new
                {
                    model = Path.GetFileName(model), grammar = name, before_tokens_per_s = before, before_ratio = baseline / before,
                    after_tokens_per_s = after, after_ratio = baseline / after, tokens = totals[(name, true)].Tokens,
                });
            }
        }
        Console.WriteLine();
        Console.WriteLine("x slower = time per token with the grammar / time per token without one (target <= 1.3 after); rows timed on few tokens are noise.");
        if (json is not null) await File.WriteAllTextAsync(json, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>Decoded tokens after the first and the seconds they took.</summary>
    private static async Task<(long Tokens, double Seconds)> RateAsync(ModelRunner runner, LLama.Native.LLamaToken[] prompt, string? grammar, bool lazily,
        uint seed, int tokens, bool greedy)
    {
        var stream = runner.Submit(new GenerationRequest
        {
            PromptTokens = prompt,
            MaxTokens = tokens,
            // The raw output: a closing text would add tokens that were never sampled.
            CloseGrammar = false,
            Sampling = new SamplingSettings { Temperature = greedy ? 0 : 0.8f, Seed = seed, Grammar = grammar, CheckGrammarLazily = lazily },
        });
        long first = 0;
        await foreach (var e in stream.Events.ReadAllAsync())
        {
            if (e is TokenPiece && first == 0) first = Stopwatch.GetTimestamp();
            if (e is GenerationCompleted done)
                return first == 0 || done.EvalCount < 2 ? (0, 0) : (done.EvalCount - 1, Stopwatch.GetElapsedTime(first).TotalSeconds);
        }
        throw new InvalidOperationException("the stream ended without a result");
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
