using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.LoadTool;

/// <summary>Aggregated results of the measured phase; serialised as-is for --json.</summary>
public sealed record LoadReport
{
    public string? Label { get; init; }
    public required string Url { get; init; }
    public required string Model { get; init; }
    public int Clients { get; init; }
    public int Requests { get; init; }
    public int PromptTokens { get; init; }
    public int OutputTokens { get; init; }
    public int SharedPrefixTokens { get; init; }
    public double SharedPrefixShare { get; init; }
    public int Errors { get; init; }
    public double WallSeconds { get; init; }
    public double RequestsPerSecond { get; init; }
    public long GeneratedTokens { get; init; }
    public long PromptTokensEvaluated { get; init; }
    public double GeneratedTokensPerSecond { get; init; }
    public double TtftP50Ms { get; init; }
    public double TtftP95Ms { get; init; }
    public double TtftP99Ms { get; init; }
    public double ItlP50Ms { get; init; }
    public double ItlP99Ms { get; init; }
    public double LatencyP50Ms { get; init; }
    public double LatencyP99Ms { get; init; }
    public IReadOnlyList<string> SampleErrors { get; init; } = [];

    public static LoadReport Build(LoadOptions o, IReadOnlyList<RequestResult> results, TimeSpan wall)
    {
        var ok = results.Where(r => r.Ok).ToList();
        var ttft = ok.Where(r => r.TtftMs.HasValue).Select(r => r.TtftMs!.Value).ToList();
        var itl = ok.SelectMany(r => r.InterTokenMs).ToList();
        var latency = ok.Select(r => r.TotalMs).ToList();
        var generated = ok.Sum(r => (long)r.EvalCount);
        var secs = Math.Max(wall.TotalSeconds, 1e-9);
        return new LoadReport
        {
            Label = o.Label, Url = o.Url, Model = o.Model, Clients = o.Clients, Requests = results.Count,
            PromptTokens = o.PromptTokens, OutputTokens = o.OutputTokens,
            SharedPrefixTokens = o.SharedPrefixTokens, SharedPrefixShare = o.SharedPrefixShare,
            Errors = results.Count - ok.Count,
            WallSeconds = wall.TotalSeconds,
            RequestsPerSecond = ok.Count / secs,
            GeneratedTokens = generated,
            PromptTokensEvaluated = ok.Sum(r => (long)r.PromptEvalCount),
            GeneratedTokensPerSecond = generated / secs,
            TtftP50Ms = Stats.Percentile(ttft, 50), TtftP95Ms = Stats.Percentile(ttft, 95),
            TtftP99Ms = Stats.Percentile(ttft, 99),
            ItlP50Ms = Stats.Percentile(itl, 50), ItlP99Ms = Stats.Percentile(itl, 99),
            LatencyP50Ms = Stats.Percentile(latency, 50), LatencyP99Ms = Stats.Percentile(latency, 99),
            SampleErrors = results.Where(r => !r.Ok).Select(r => $"#{r.Index}: {r.Error}").Distinct().Take(5).ToList(),
        };
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Percentiles of an empty sample are NaN; keep them representable in JSON.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToTable()
    {
        var sb = new StringBuilder();
        void Row(string k, string v) => sb.Append(CultureInfo.InvariantCulture, $"  {k,-24} {v}\n");
        static string Ms(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F1", CultureInfo.InvariantCulture) + " ms";
        static string F(double v, string unit) => v.ToString("F2", CultureInfo.InvariantCulture) + unit;

        sb.Append(CultureInfo.InvariantCulture, $"== {Label ?? "load"}: {Model} @ {Url}\n");
        Row("clients / requests", $"{Clients} / {Requests}");
        Row("prompt / output tokens", $"~{PromptTokens} / {OutputTokens}");
        Row("shared prefix", $"{SharedPrefixTokens} tokens x {SharedPrefixShare:P0}");
        Row("errors", Errors.ToString(CultureInfo.InvariantCulture));
        Row("wall time", F(WallSeconds, " s"));
        Row("requests/s", F(RequestsPerSecond, ""));
        Row("generated tokens", GeneratedTokens.ToString(CultureInfo.InvariantCulture));
        Row("generated tokens/s", F(GeneratedTokensPerSecond, ""));
        Row("TTFT p50 / p95 / p99", $"{Ms(TtftP50Ms)} / {Ms(TtftP95Ms)} / {Ms(TtftP99Ms)}");
        Row("ITL p50 / p99", $"{Ms(ItlP50Ms)} / {Ms(ItlP99Ms)}");
        Row("latency p50 / p99", $"{Ms(LatencyP50Ms)} / {Ms(LatencyP99Ms)}");
        foreach (var e in SampleErrors) Row("error", e);
        return sb.ToString();
    }
}
