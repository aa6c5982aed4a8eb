using Inference.Engine.Scheduling;
using Inference.Engine.Tools;

namespace Inference.Server.Generation;

/// <summary>
/// What a wire format receives from <see cref="GenerationPipeline"/>: deltas as they come, then exactly one
/// of Finished or Failed. Each API implements it once (NDJSON, server-sent events, a collected JSON object);
/// the pipeline has already applied the tool-call parser, recorded the metrics and written the log line.
/// </summary>
public interface IGenerationWriter
{
    /// <summary>
    /// A piece of output: its text (may be empty), the tool calls it completed (usually none), and the
    /// log-probabilities of the tokens it covers (null when not asked for, or when no token is covered yet).
    /// </summary>
    ValueTask DeltaAsync(string text, IReadOnlyList<ToolCall> calls, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct);

    /// <summary>
    /// A piece of the model's reasoning (only when thinking is on: Ollama's think), sent before the content that
    /// follows it, with the log-probabilities of the tokens that were only reasoning. A wire format without a
    /// place for reasoning leaves it out.
    /// </summary>
    ValueTask ThinkingAsync(string thinking, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct) => ValueTask.CompletedTask;

    ValueTask FinishedAsync(GenerationOutcome outcome, CancellationToken ct);

    /// <summary>The engine failed after the generation started (e.g. the KV cache had no room).</summary>
    ValueTask FailedAsync(string message, CancellationToken ct);
}

/// <summary>
/// The final summary of a generation, in neutral terms. <see cref="FinishReason"/> is the one mapping of the
/// engine's reason: "length" when a token limit cut it, else "tool_calls" when the output called tools, else
/// "stop" (OpenAI's names, which the /v1 and /ai routes use as they are; Ollama reports calls as "stop").
/// </summary>
public sealed record GenerationOutcome
{
    public required string FinishReason { get; init; }
    /// <summary>The model was unloaded under the generation (Ollama's done_reason "unload").</summary>
    public bool Unloaded { get; init; }
    public required FinishReason EngineReason { get; init; }
    /// <summary>Tokens of the prompt as submitted (evaluated plus reused from the cache).</summary>
    public int PromptTokens { get; init; }
    /// <summary>Prompt tokens actually evaluated.</summary>
    public int PromptEvalCount { get; init; }
    /// <summary>Prompt tokens reused from the prefix cache.</summary>
    public int CachedPromptCount { get; init; }
    public int EvalCount { get; init; }
    /// <summary>The request's stop string that ended the output, if one did (Anthropic reports it).</summary>
    public string? StopSequence { get; init; }
    public TimeSpan LoadDuration { get; init; }
    public TimeSpan PromptEvalDuration { get; init; }
    public TimeSpan EvalDuration { get; init; }
    /// <summary>From the request's start to the end of the generation.</summary>
    public TimeSpan TotalDuration { get; init; }
    /// <summary>Prompt tokens dropped to fit the context (Ollama's truncate; a lower bound for text too long to tokenize whole).</summary>
    public long TruncatedTokens { get; init; }
    /// <summary>Times the full context was shifted to go on generating (Ollama's shift).</summary>
    public int ContextShifts { get; init; }
    /// <summary>The prompt's token ids and the generated ones, when the input asked for them (Ollama's generate "context").</summary>
    public IReadOnlyList<int>? Context { get; init; }

    /// <summary>The finish reason a stream without tools reports: OpenAI's and the /ai routes' "length" or "stop".</summary>
    public static string NameOf(FinishReason reason, bool calledTools) =>
        reason == Engine.Scheduling.FinishReason.Length ? "length" : calledTools ? "tool_calls" : "stop";
}

/// <summary>A whole generation collected: text, tool calls, sampled tokens (when asked for) and the summary.</summary>
public sealed record GeneratedText(string Text, IReadOnlyList<ToolCall> Calls, IReadOnlyList<TokenLogprob> Logprobs, GenerationOutcome Outcome)
{
    /// <summary>The reasoning, when thinking was on (else null).</summary>
    public string? Thinking { get; init; }
}

/// <summary>The engine reported a failure after the generation started (a whole response answers it with status 500).</summary>
public sealed class GenerationFailedException(string message) : Exception(message);

/// <summary>Where a generation came from: the route (for the log line) and when its request started (time to first token counts from there).</summary>
public readonly record struct GenerationOrigin(string Route, long StartedTimestamp)
{
    public static GenerationOrigin Of(HttpContext http, long startedTimestamp) => new(http.Request.Path.Value ?? "", startedTimestamp);
}
