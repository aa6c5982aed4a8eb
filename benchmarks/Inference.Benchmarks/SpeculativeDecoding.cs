using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Inference.Engine.Scheduling;
using LLama;
using LLama.Common;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Benchmarks;

/// <summary>
/// N-gram speculative decoding (Inference:SpeculativeDraft=ngram): single-stream decode tokens/s with drafting off and
/// on (one runner per draft length, same weights), runs alternated within each round, greedy, on a repetitive story, an
/// SQL-assist-like prompt (schema, then a query that names it) and a code-completion-like prompt. Reports the speed-up,
/// the share of drafted tokens accepted, and checks that every configuration wrote the same text as drafting off.
/// Rate = (tokens − 1) / (end − first piece), as grammar-overhead measures it.
/// </summary>
internal static class SpeculativeDecoding
{
    private static readonly (string Name, string Prompt)[] Workloads =
    [
        ("repetitive story",
            "Once upon a time, there was a little girl named Lily. She loved to play with her ball in the park. " +
            "Once upon a time, there was a little girl named Lily. She loved to play with her ball in the park. " +
            "Once upon a time, there was a little girl named Lily."),
        ("sql assist",
            "Schema:\nCREATE TABLE customers (customer_id INTEGER PRIMARY KEY, name TEXT, email TEXT, created_at DATE);\n" +
            "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(customer_id), total NUMERIC, ordered_at DATE);\n" +
            "Question: the name and email of each customer with their total spent in 2024.\nSQL:\nSELECT customers.name, customers.email, SUM(orders.total)"),
        ("code completion",
            "public sealed class OrderService(IOrderRepository orders, ICustomerRepository customers)\n{\n" +
            "    public async Task<Order?> FindOrderAsync(int orderId) => await orders.FindAsync(orderId);\n" +
            "    public async Task<Customer?> FindCustomerAsync(int customerId) => await customers.FindAsync(customerId);\n" +
            "    public async Task<decimal> TotalForCustomerAsync(int customerId)\n    {\n        var customer = await"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        int tokens = int.Parse(Arg(args, "--tokens") ?? "128", CultureInfo.InvariantCulture);
        int rounds = int.Parse(Arg(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        int threads = int.Parse(Arg(args, "--threads") ?? "2", CultureInfo.InvariantCulture);
        var drafts = (Arg(args, "--draft") ?? "4,8,16").Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        var models = Arg(args, "--models")?.Split(',') ?? [TestModelPath.Stories260K, TestModelPath.TinyRandomLlama2];
        string? json = Arg(args, "--json");
        // Ollama's default repeat_penalty is 1.1 over the last 64 tokens; it works against repeating the prompt.
        float penalty = float.Parse(Arg(args, "--repeat-penalty") ?? "1.1", CultureInfo.InvariantCulture);

        Console.WriteLine($"n-gram speculative decoding: greedy, repeat_penalty {penalty}, {tokens} tokens per run, {rounds} rounds, runs alternated, {threads} threads, draft lengths {string.Join(", ", drafts)}");
        var results = new List<object>();
        foreach (var model in models)
        {
            var parameters = new ModelParams(model) { ContextSize = 2048, Threads = threads, BatchThreads = threads, GpuLayerCount = 0 };
            using var weights = LLamaWeights.LoadFromFile(parameters);
            // Draft length 0 is drafting off.
            var lengths = new[] { 0 }.Concat(drafts).ToArray();
            var runners = lengths.Select(k => new ModelRunner(weights, new RunnerSettings
            {
                ContextLength = 2048, Parallel = 1, CachedSequences = 0, Threads = threads, DraftTokens = k,
            }, new SchedulerStats("speculative"), NullLogger.Instance)).ToArray();
            try
            {
                Console.WriteLine();
                Console.WriteLine(Path.GetFileName(model));
                Console.WriteLine($"  {"workload",-18} {"draft",5} {"tokens/s",9} {"speed-up",9} {"accepted",9} {"per step",9} {"same text",10}");
                foreach (var (name, prompt) in Workloads)
                {
                    var promptTokens = runners[0].Tokenize(prompt, addBos: true, special: false);
                    foreach (var runner in runners) await RunAsync(runner, promptTokens, 16, penalty); // warm-up
                    var totals = new (long Tokens, double Seconds, long Proposed, long Accepted)[lengths.Length];
                    var texts = new string[lengths.Length];
                    for (int round = 0; round < rounds; round++)
                        for (int k = 0; k < lengths.Length; k++)
                        {
                            // Alternate the order too, so no configuration always runs first in a round.
                            int i = round % 2 == 0 ? k : lengths.Length - 1 - k;
                            var stats = runners[i].Stats;
                            long proposed = stats.DraftTokensProposed, accepted = stats.DraftTokensAccepted;
                            var (n, s, text) = await RunAsync(runners[i], promptTokens, tokens, penalty);
                            var t = totals[i];
                            totals[i] = (t.Tokens + n, t.Seconds + s, t.Proposed + stats.DraftTokensProposed - proposed, t.Accepted + stats.DraftTokensAccepted - accepted);
                            texts[i] ??= text;
                        }
                    double baseline = totals[0].Tokens / totals[0].Seconds;
                    Console.WriteLine($"  {name}: {texts[0][..Math.Min(texts[0].Length, 160)].ReplaceLineEndings(" ")}");
                    for (int i = 0; i < lengths.Length; i++)
                    {
                        var t = totals[i];
                        double rate = t.Tokens / t.Seconds;
                        double acceptance = t.Proposed > 0 ? (double)t.Accepted / t.Proposed : 0;
                        // Tokens per decode step after the first: 1 + accepted drafts per step.
                        double perStep = t.Tokens / Math.Max(1.0, t.Tokens - t.Accepted);
                        bool same = texts[i] == texts[0];
                        Console.WriteLine($"  {name,-18} {(lengths[i] == 0 ? "off" : lengths[i].ToString(CultureInfo.InvariantCulture)),5} {rate,9:F1} {rate / baseline,9:F2} {acceptance,9:P0} {perStep,9:F2} {(same ? "yes" : "NO"),10}");
                        results.Add(new
                        {
                            model = Path.GetFileName(model), workload = name, draft = lengths[i], tokens_per_s = rate, speedup = rate / baseline,
                            proposed = t.Proposed, accepted = t.Accepted, acceptance, tokens_per_step = perStep, same_text = same,
                        });
                    }
                }
            }
            finally
            {
                foreach (var runner in runners) runner.Dispose();
            }
        }
        Console.WriteLine();
        Console.WriteLine("accepted = drafted tokens the model confirmed / drafted tokens; per step = generated tokens per decode step after the prompt.");
        if (json is not null) await File.WriteAllTextAsync(json, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>Decoded tokens after the first, the seconds they took, and the text.</summary>
    private static async Task<(long Tokens, double Seconds, string Text)> RunAsync(ModelRunner runner, LLama.Native.LLamaToken[] prompt, int tokens, float penalty)
    {
        var stream = runner.Submit(new GenerationRequest
        {
            PromptTokens = prompt,
            MaxTokens = tokens,
            Sampling = new SamplingSettings { Temperature = 0, RepeatPenalty = penalty },
        });
        long first = 0;
        var text = new System.Text.StringBuilder();
        await foreach (var e in stream.Events.ReadAllAsync())
        {
            if (e is TokenPiece piece)
            {
                if (first == 0) first = Stopwatch.GetTimestamp();
                text.Append(piece.Text);
            }
            if (e is GenerationCompleted done)
                return first == 0 || done.EvalCount < 2 ? (0, 0, text.ToString()) : (done.EvalCount - 1, Stopwatch.GetElapsedTime(first).TotalSeconds, text.ToString());
        }
        throw new InvalidOperationException("the stream ended without a result");
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
