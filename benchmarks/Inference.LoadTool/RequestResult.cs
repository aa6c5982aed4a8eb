namespace Inference.LoadTool;

/// <summary>Outcome of one streamed request (/api/generate or /v1/completions). Times are milliseconds from sending.</summary>
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
    /// <summary>Prompt tokens the server reused from its cache (OpenAI usage.prompt_tokens_details.cached_tokens).</summary>
    public int CachedPromptTokens { get; init; }
    /// <summary>Time to the event that carried the finish reason (openai-completions only).</summary>
    public double? FinishMs { get; init; }
    /// <summary>The generated text (openai-completions only), to check two servers produced the same output.</summary>
    public string? Text { get; init; }
    public double TotalMs { get; init; }
    /// <summary>Sent a second time because the first try failed before any response (see <see cref="ResendOnClosedConnection"/>).</summary>
    public bool Resent { get; init; }
}
