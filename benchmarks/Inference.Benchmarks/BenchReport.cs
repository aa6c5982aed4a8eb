using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Inference.Benchmarks;

/// <summary>
/// Reads the JSON files scripts/bench.sh leaves in a results folder (load-tool reports and the
/// decode baseline) and writes the markdown table for the README, with each target's ratio.
/// </summary>
internal static class BenchReport
{
    public static int Run(string[] args)
    {
        string dir = args.Length > 0 ? args[0] : throw new ArgumentException("usage: report RESULTS_DIR [OUT.md]");
        JsonElement? Load(string name)
        {
            var path = Path.Combine(dir, name + ".json");
            return File.Exists(path) ? JsonDocument.Parse(File.ReadAllText(path)).RootElement : null;
        }
        static double D(JsonElement? e, string field) => e is { } v && v.TryGetProperty(field, out var p) ? p.GetDouble() : double.NaN;
        static string F(double v, string format = "F1") => double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

        var md = new StringBuilder();
        md.AppendLine("| Run | Clients | Requests | Generated tok/s | TTFT p50 (ms) | TTFT p99 (ms) | ITL p50 (ms) | ITL p99 (ms) | Errors |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        string[] runs = ["streams-1", "streams-2", "streams-4", "streams-8", "streams-16", "serial-8", "prefix-cold", "prefix-warm", "admission-paced", "admission-unpaced"];
        foreach (var name in runs)
        {
            if (Load(name) is not { } r) continue;
            md.AppendLine($"| {name} | {D(r, "clients")} | {D(r, "requests")} | {F(D(r, "generated_tokens_per_second"))} | {F(D(r, "ttft_p50_ms"), "F0")} | {F(D(r, "ttft_p99_ms"), "F0")} | {F(D(r, "itl_p50_ms"))} | {F(D(r, "itl_p99_ms"))} | {D(r, "errors")} |");
        }

        double single = D(Load("streams-1"), "generated_tokens_per_second");
        double eight = D(Load("streams-8"), "generated_tokens_per_second");
        double serial = D(Load("serial-8"), "generated_tokens_per_second");
        double cold = D(Load("prefix-cold"), "ttft_p50_ms"), warm = D(Load("prefix-warm"), "ttft_p50_ms");
        var baseline = Load("decode-baseline");
        var paced = Load("admission-paced");
        md.AppendLine();
        md.AppendLine("| Target | Measured | Goal |");
        md.AppendLine("|---|---|---|");
        var ceiling = Load("batch-ceiling");
        double bare8 = ceiling is { } c && c.GetProperty("throughput_ceiling").TryGetProperty("8", out var v) ? v.GetDouble() : double.NaN;
        md.AppendLine($"| 8 streams vs 1 stream, aggregate tok/s | {F(eight / single, "F2")}x (bare llama_decode ceiling here: {F(bare8, "F2")}x) | >= 2.0x |");
        md.AppendLine($"| 8 streams batched vs one at a time (NumParallel=1) | {F(eight / serial, "F2")}x | >= 2.0x |");
        md.AppendLine($"| TTFT with a cached 1,000-token prefix vs cold | {F(warm / cold, "F3")}x | <= 0.2x |");
        md.AppendLine($"| Single-stream decode vs LLamaSharp StatelessExecutor ({F(D(baseline, "scheduler_tokens_per_s"))} vs {F(D(baseline, "stateless_tokens_per_s"))} tok/s) | {F(D(baseline, "ratio"), "F3")}x | >= 0.95x |");
        md.AppendLine($"| ITL p99 / p50 of running streams while a 2,000-token prompt is admitted | {F(D(paced, "itl_p99_ms") / D(paced, "itl_p50_ms"), "F2")}x | <= 3x |");

        var text = md.ToString();
        Console.Write(text);
        if (args.Length > 1) File.WriteAllText(args[1], text);
        return 0;
    }
}
