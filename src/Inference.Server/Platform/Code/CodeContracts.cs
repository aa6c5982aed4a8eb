using System.Text.Json.Serialization;

namespace Inference.Server.Platform.Code;

/// <summary>
/// POST /ai/code/complete. <c>cursor_position</c> counts UTF-16 code units (how JavaScript and
/// .NET index strings, and what editors report); 0 is before the first character.
/// </summary>
public sealed record CodeCompleteRequest
{
    [JsonPropertyName("code")] public string? Code { get; init; }
    [JsonPropertyName("language")] public string? Language { get; init; }
    [JsonPropertyName("cursor_position")] public long? CursorPosition { get; init; }
    [JsonPropertyName("model")] public string? Model { get; init; }
    /// <summary>Completions to sample from the one evaluated prompt (default 3).</summary>
    [JsonPropertyName("n")] public int? N { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    /// <summary>Seed of the first completion (the i-th uses seed + i); omitted = random.</summary>
    [JsonPropertyName("seed")] public long? Seed { get; init; }
}

/// <summary>The answer of /ai/code/complete.</summary>
public sealed record CodeCompleteResponse
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>"fim" (the model filled in between the code before and after the cursor) or "prefix" (it continued the code before it).</summary>
    [JsonPropertyName("mode")] public required string Mode { get; init; }
    [JsonPropertyName("completions")] public required IReadOnlyList<string> Completions { get; init; }
    /// <summary>Mean over completions of each one's geometric-mean token probability, in [0, 1].</summary>
    [JsonPropertyName("confidence")] public double Confidence { get; init; }
    [JsonPropertyName("choices")] public required IReadOnlyList<CodeChoice> Choices { get; init; }
    /// <summary>Tokens of the prompt (after any trimming of a file too long for the context window).</summary>
    [JsonPropertyName("prompt_eval_count")] public int PromptEvalCount { get; init; }
    /// <summary>Prompt tokens actually evaluated for all completions together (shared, so about one prompt's worth).</summary>
    [JsonPropertyName("prompt_tokens_evaluated")] public int PromptTokensEvaluated { get; init; }
    [JsonPropertyName("eval_count")] public int EvalCount { get; init; }
    [JsonPropertyName("total_duration_ms")] public double TotalDurationMs { get; init; }
}

/// <summary>One completion with its own confidence (absent when the model ended it at once).</summary>
public sealed record CodeChoice
{
    [JsonPropertyName("text")] public required string Text { get; init; }
    [JsonPropertyName("confidence")] public double? Confidence { get; init; }
    [JsonPropertyName("finish_reason")] public required string FinishReason { get; init; }
}
