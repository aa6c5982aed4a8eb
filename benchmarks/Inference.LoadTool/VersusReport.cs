using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Inference.LoadTool;

/// <summary>
/// The "versus-report" command: one markdown table per model from the "versus" JSON files, with the
/// bare llama_decode ceilings (the batch-ceiling benchmark's JSON) as shares, and the option rows.
/// </summary>
public static class VersusReport
{
    public const string Usage = """
        Usage: Inference.LoadTool versus-report --out report.md [--header TEXT] [--ceiling LABEL=PATH]... [--their-ceiling LABEL=PATH]... [--options PATH] VERSUS.json...
          --ceiling LABEL=PATH         batch-ceiling JSON (bare llama_decode of the library our server loads) of the model labelled LABEL
          --their-ceiling LABEL=PATH   llama-batched-bench JSONL (runs of -npl 1 and 8; the median of each) of llama-server's llama.cpp for that model
                                       (either one given more than once for a label: the mean of those measurements)
          --options PATH   the option rows (options.json written by scripts/bench-vs-llama-server.sh)
        """;

    public static int Run(string[] args)
    {
        string? output = null, header = null, options = null;
        var ceilings = new List<string>();
        var theirCeilings = new List<string>();
        var inputs = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out": output = args[++i]; break;
                case "--header": header = args[++i]; break;
                case "--ceiling": ceilings.Add(args[++i]); break;
                case "--their-ceiling": theirCeilings.Add(args[++i]); break;
                case "--options": options = args[++i]; break;
                case "--help": Console.WriteLine(Usage); return 0;
                default: inputs.Add(args[i]); break;
            }
        }
        if (inputs.Count == 0) { Console.Error.WriteLine(Usage); return 2; }
        var results = inputs.Select(p => JsonSerializer.Deserialize<VersusResult>(File.ReadAllText(p), VersusResult.Json)!).ToList();
        var ours = ByLabel(ceilings, Ceiling.FromBatchCeiling);
        var theirs = ByLabel(theirCeilings, Ceiling.FromBatchedBench);
        var sb = new StringBuilder();
        if (header is not null) sb.Append(header).Append("\n\n");
        sb.Append(Table(results, ours, theirs));
        if (options is not null) sb.Append('\n').Append(File.ReadAllText(options).Trim()).Append('\n');
        var text = sb.ToString();
        Console.WriteLine(text);
        if (output is not null) File.WriteAllText(output, text);
        return results.Any(r => r.Errors.Count > 0) ? 1 : 0;
    }

    /// <summary>
    /// One ceiling per model label: the mean of that label's files. The harness measures each ceiling before and after the
    /// side-by-side runs, so a machine that slowed down or sped up between them moves both shares alike.
    /// </summary>
    public static Dictionary<string, Ceiling> ByLabel(IEnumerable<string> labelledPaths, Func<string, Ceiling> read) =>
        labelledPaths.Select(Labelled).GroupBy(c => c.Label)
            .ToDictionary(g => g.Key, g => Ceiling.Mean(g.Select(c => read(c.Path)).ToList()));

    private static (string Label, string Path) Labelled(string arg)
    {
        var eq = arg.LastIndexOf('=');
        return eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : throw new ArgumentException($"expected LABEL=PATH, got '{arg}'");
    }

    /// <summary>
    /// The bare ceilings of one model and llama.cpp build: tokens/s of 1 and of 8 sequences decoding together, and of one
    /// 512-token prompt evaluated in one llama_decode (NaN where it was not measured).
    /// </summary>
    public sealed record Ceiling(double Single, double Eight, double Prefill = double.NaN)
    {
        /// <summary>The batch-ceiling benchmark's JSON: step_ms per sequence count, prefill_512_tok_s.</summary>
        public static Ceiling FromBatchCeiling(string path)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var steps = doc.RootElement.GetProperty("step_ms");
            double prefill = doc.RootElement.TryGetProperty("prefill_512_tok_s", out var p) ? p.GetDouble() : double.NaN;
            return new Ceiling(1000 / steps.GetProperty("1").GetDouble(), 8 * 1000 / steps.GetProperty("8").GetDouble(), prefill);
        }

        /// <summary>
        /// llama-batched-bench --output-format jsonl: speed_tg (tokens/s of all sequences) per pl, and speed_pp of the runs
        /// with a 512-token prompt (pp 512) for prefill; the median of the runs of each (the harness runs each three times).
        /// </summary>
        public static Ceiling FromBatchedBench(string path)
        {
            var speeds = new Dictionary<int, List<double>>();
            var prefill = new List<double>();
            foreach (var line in File.ReadLines(path).Where(l => l.StartsWith('{')))
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.TryGetProperty("pp", out var pp) && pp.GetInt32() == PrefillPromptTokens)
                {
                    prefill.Add(root.GetProperty("speed_pp").GetDouble());
                    continue;
                }
                var pl = root.GetProperty("pl").GetInt32();
                if (!speeds.TryGetValue(pl, out var runs)) speeds[pl] = runs = [];
                runs.Add(root.GetProperty("speed_tg").GetDouble());
            }
            // A line llama-batched-bench did not write shows as "-" rather than failing the report.
            double Speed(int pl) => speeds.TryGetValue(pl, out var runs) ? Median(runs) : double.NaN;
            return new Ceiling(Speed(1), Speed(8), prefill.Count > 0 ? Median(prefill) : double.NaN);
        }

        /// <summary>Each rate's mean over the measurements that have it (NaN where none has).</summary>
        public static Ceiling Mean(IReadOnlyList<Ceiling> all)
        {
            static double Of(IEnumerable<double> values)
            {
                var known = values.Where(v => !double.IsNaN(v)).ToList();
                return known.Count > 0 ? known.Average() : double.NaN;
            }
            return new Ceiling(Of(all.Select(c => c.Single)), Of(all.Select(c => c.Eight)), Of(all.Select(c => c.Prefill)));
        }

        /// <summary>The prompt length of the prefill ceilings (batch-ceiling's, and the harness's llama-batched-bench -npp).</summary>
        public const int PrefillPromptTokens = 512;
    }

    /// <summary>
    /// One table for all models (a bold row opens each model's rows), then per model the output checks
    /// and any errors.
    /// </summary>
    public static string Table(IReadOnlyList<VersusResult> results,
        IReadOnlyDictionary<string, Ceiling>? ourCeilings = null, IReadOnlyDictionary<string, Ceiling>? theirCeilings = null)
    {
        var sb = new StringBuilder();
        foreach (var settings in results.Select(r => r.Settings).Distinct())
            sb.Append("Settings: ").Append(settings).Append('\n');
        sb.Append("\nValue = median of the alternating pairs; ratio = ours / llama-server of the medians (tok/s: higher is better; ms and MiB: lower is better); spread = lowest-highest ratio of a single pair. Bare ceilings: the mean of their measurements (the harness measures them before and after the side-by-side runs).\n\n");
        sb.Append("| metric | ours | llama-server | ratio | spread |\n|---|---|---|---|---|\n");
        foreach (var r in results)
        {
            sb.Append(Inv($"| **{r.Label}** ({r.Pairs} pairs) | | | | |\n"));
            foreach (var m in r.Metrics)
            {
                if (m.Ours.Count == 0 || m.Theirs.Count == 0) continue;
                double a = Median(m.Ours), b = Median(m.Theirs);
                var pairRatios = m.Ours.Zip(m.Theirs, (x, y) => x / y).Where(x => !double.IsNaN(x)).ToList();
                var spread = pairRatios.Count > 1 ? Inv($"{pairRatios.Min():F2}-{pairRatios.Max():F2}") : "-";
                sb.Append(Inv($"| {m.Name} ({m.Unit}) | {Value(a)} | {Value(b)} | {a / b:F2} | {spread} |\n"));
            }
            Ceiling? ours = ourCeilings?.GetValueOrDefault(r.Label), theirs = theirCeilings?.GetValueOrDefault(r.Label);
            if (ours is not null || theirs is not null)
            {
                sb.Append(Inv($"| bare decode ceiling, 1 sequence (tok/s; ours: batch-ceiling on the library our server loads, llama-server: llama-batched-bench) | {Value(ours?.Single)} | {Value(theirs?.Single)} | {Ratio(ours?.Single, theirs?.Single)} | |\n"));
                sb.Append(Inv($"| bare decode ceiling, 8 sequences (tok/s) | {Value(ours?.Eight)} | {Value(theirs?.Eight)} | {Ratio(ours?.Eight, theirs?.Eight)} | |\n"));
                sb.Append(Inv($"| bare prefill ceiling, one {Ceiling.PrefillPromptTokens}-token prompt in one llama_decode (tok/s) | {Value(ours?.Prefill)} | {Value(theirs?.Prefill)} | {Ratio(ours?.Prefill, theirs?.Prefill)} | |\n"));
                Share(sb, r, MetricKeys.Prefill, ours?.Prefill, theirs?.Prefill, "prefill as a share of its library's prefill ceiling");
                Share(sb, r, MetricKeys.Decode, ours?.Single, theirs?.Single, "single-stream decode as a share of its library's 1-sequence ceiling");
                Share(sb, r, MetricKeys.ArrivalsAggregate, ours?.Eight, theirs?.Eight, "8 arrivals aggregate (wall time, prefill included) as a share of its library's 8-sequence ceiling");
                Share(sb, r, MetricKeys.ArrivalsAllDecoding, ours?.Eight, theirs?.Eight, "8 arrivals decoding all at once as a share of its library's 8-sequence ceiling");
            }
        }
        foreach (var r in results)
        {
            sb.Append(Inv($"\nSame output on both servers, {r.Label}:\n"));
            foreach (var check in r.Checks)
                sb.Append(Inv($"- {check.Scenario}: same text {check.SameText}/{check.Compared}, same completion tokens {check.SameTokenCounts}/{check.Compared}, same prompt tokens {check.SamePromptTokens}/{check.Compared}"))
                  .Append(check.RerunPairs > 0 ? Inv($"; {check.RerunPairs} pair(s) re-run with other prompts because llama-server rejected its own output as not valid UTF-8 (llama.cpp issue #27543)") : "")
                  .Append(check.ResentOurs + check.ResentTheirs > 0 ? Inv($"; re-sent after a connection failure before any response: ours {check.ResentOurs}, llama-server {check.ResentTheirs}") : "")
                  .Append(check.FirstDifference is null ? "\n" : $"; first difference: {check.FirstDifference}\n");
            foreach (var e in r.Errors) sb.Append("- ERROR: ").Append(e).Append('\n');
        }
        return sb.ToString();
    }

    private static void Share(StringBuilder sb, VersusResult r, string key, double? ourCeiling, double? theirCeiling, string label)
    {
        var m = r.Metrics.FirstOrDefault(x => x.Key == key);
        if (m is null || m.Ours.Count == 0 || m.Theirs.Count == 0) return;
        string Percent(double v, double? c) => c is { } x && !double.IsNaN(x) ? Inv($"{v / x:P0}") : "-";
        sb.Append(Inv($"| {label} | {Percent(Median(m.Ours), ourCeiling)} | {Percent(Median(m.Theirs), theirCeiling)} | | |\n"));
    }

    private static string Value(double v) => v >= 100 ? Inv($"{v:F0}") : Inv($"{v:F1}");
    private static string Value(double? v) => v is { } x && !double.IsNaN(x) ? Value(x) : "-";
    private static string Ratio(double? a, double? b) => a is { } x && b is { } y && !double.IsNaN(x / y) ? Inv($"{x / y:F2}") : "-";

    /// <summary>The median of the values measured (a pair whose value could not be measured holds NaN).</summary>
    public static double Median(IReadOnlyList<double> values) => Stats.Percentile(values.Where(v => !double.IsNaN(v)).ToList(), 50);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
