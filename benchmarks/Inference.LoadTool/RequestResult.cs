namespace Inference.LoadTool;

/// <summary>Outcome of one streamed /api/generate request. Times are milliseconds from sending.</summary>
public sealed record RequestResult
{
    public required int Index { get; init; }
    public bool Ok => Error is null;
    public string? Error { get; init; }
    public int? StatusCode { get; init; }
    /// <summary>Time to the first non-empty response piece; null when none arrived.</summary>
    public double? TtftMs { get; init; }
    /// <summary>Gaps between successive non-empty pieces.</summary>
    public IReadOnlyList<double> InterTokenMs { get; init; } = [];
    public int Pieces { get; init; }
    /// <summary>Generated tokens as reported by the server's final line (eval_count).</summary>
    public int EvalCount { get; init; }
    public int PromptEvalCount { get; init; }
    public double TotalMs { get; init; }
}
