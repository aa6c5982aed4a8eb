using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.LoadTool;

/// <summary>One model's side-by-side measurements, as written by "versus --json" and read by "versus-report".</summary>
public sealed record VersusResult
{
    public required string Label { get; init; }
    public required string Settings { get; init; }
    public int Pairs { get; init; }
    public List<VersusMetric> Metrics { get; init; } = [];
    public List<VersusCheck> Checks { get; init; } = [];
    public List<string> Errors { get; init; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>A metric measured once per pair on each server (same index = same pair).</summary>
public sealed record VersusMetric
{
    /// <summary>Stable name the report looks metrics up by (<see cref="MetricKeys"/>); Name is what the table shows.</summary>
    public string Key { get; init; } = "";
    public required string Name { get; init; }
    public required string Unit { get; init; }
    public bool HigherIsBetter { get; init; }
    public List<double> Ours { get; init; } = [];
    public List<double> Theirs { get; init; } = [];
}

/// <summary>Whether both servers produced the same output for a scenario's requests.</summary>
public sealed record VersusCheck
{
    public required string Scenario { get; init; }
    public int Compared { get; init; }
    public int SameText { get; init; }
    public int SameTokenCounts { get; init; }
    public int SamePromptTokens { get; init; }
    public string? FirstDifference { get; init; }
    /// <summary>Pairs run again because llama-server rejected its own output (see VersusRunner.PairsAsync).</summary>
    public int RerunPairs { get; init; }
    /// <summary>Requests of each server sent a second time after a connection failure (see ResendOnClosedConnection).</summary>
    public int ResentOurs { get; init; }
    public int ResentTheirs { get; init; }
}

/// <summary>Keys of the metrics the report derives rows from.</summary>
public static class MetricKeys
{
    public const string Decode = "decode";
    public const string Prefill = "prefill";
    public const string ArrivalsAggregate = "arrivals-aggregate";
    public const string ArrivalsAllDecoding = "arrivals-all-decoding";
}
