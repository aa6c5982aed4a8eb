using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;
using Inference.Engine.Scheduling;
using Inference.Engine.Tools;
using Inference.Server.Contracts;
using Inference.Server.Generation;
using Inference.Server.Http;

namespace Inference.Server.OpenAI;

/// <summary>The chunks of one OpenAI stream (chat completion chunks, or completions).</summary>
internal abstract class OpenAIChunks<TChunk>
{
    /// <param name="first">The stream's first chunk (a chat chunk then names the role).</param>
    public abstract TChunk Text(string text, IReadOnlyList<LogprobDto>? logprobs, bool first);
    public abstract TChunk Calls(IReadOnlyList<ToolCall> calls, IReadOnlyList<LogprobDto>? logprobs, bool first);
    /// <summary>A piece of reasoning; null where the format has no place for it (completions).</summary>
    public virtual TChunk? Thinking(string thinking, IReadOnlyList<LogprobDto>? logprobs, bool first) => default;
    public abstract TChunk Finish(string reason);
    public abstract TChunk UsageOnly(Usage usage);
}

internal sealed class ChatChunks(string id, long created, string model) : OpenAIChunks<ChatCompletionChunk>
{
    private ChatCompletionChunk Chunk(ChunkDelta delta, string? finish = null, IReadOnlyList<LogprobDto>? logprobs = null) =>
        new() { Id = id, Created = created, Model = model, Choices = [new ChunkChoice(0, delta, finish, logprobs is null ? null : new(logprobs))] };

    public override ChatCompletionChunk Text(string text, IReadOnlyList<LogprobDto>? logprobs, bool first) =>
        Chunk(new ChunkDelta { Role = first ? "assistant" : null, Content = text }, logprobs: logprobs);

    public override ChatCompletionChunk Calls(IReadOnlyList<ToolCall> calls, IReadOnlyList<LogprobDto>? logprobs, bool first) =>
        Chunk(new ChunkDelta { Role = first ? "assistant" : null, ToolCalls = OpenAITools.ToWire(calls, streamed: true) }, logprobs: logprobs);

    public override ChatCompletionChunk? Thinking(string thinking, IReadOnlyList<LogprobDto>? logprobs, bool first) =>
        Chunk(new ChunkDelta { Role = first ? "assistant" : null, ReasoningContent = thinking, Reasoning = thinking }, logprobs: logprobs);

    public override ChatCompletionChunk Finish(string reason) => Chunk(new ChunkDelta(), reason);

    public override ChatCompletionChunk UsageOnly(Usage usage) =>
        new() { Id = id, Created = created, Model = model, Choices = [], Usage = usage };
}

internal sealed class CompletionChunks(string id, long created, string model) : OpenAIChunks<Completion>
{
    public Completion Whole(string text, string finish, Usage usage) => Chunk(text, finish) with { Usage = usage };

    private Completion Chunk(string text, string? finish) =>
        new() { Id = id, Created = created, Model = model, Choices = [new CompletionChoice(text, 0, null, finish)] };

    public override Completion Text(string text, IReadOnlyList<LogprobDto>? logprobs, bool first) => Chunk(text, null);

    // A completion has no tools: the pipeline never sends calls for it.
    public override Completion Calls(IReadOnlyList<ToolCall> calls, IReadOnlyList<LogprobDto>? logprobs, bool first) =>
        throw new InvalidOperationException("completions have no tool calls");

    public override Completion Finish(string reason) => Chunk("", reason);

    public override Completion UsageOnly(Usage usage) => new() { Id = id, Created = created, Model = model, Choices = [], Usage = usage };
}

/// <summary>
/// The pipeline's events as OpenAI's server-sent events: text and tool-call deltas as chunks (the first naming
/// the role), then a chunk with the finish reason, the usage chunk when stream_options asked for it, and [DONE].
/// A failure after the stream started is an error event.
/// </summary>
internal sealed class OpenAIEventStream<TChunk>(HttpResponse response, OpenAIChunks<TChunk> chunks, JsonTypeInfo<TChunk> type, bool includeUsage)
    : IGenerationWriter
{
    private bool _first = true;

    // Pooled: a delta that awaits a flush reuses its state machine instead of allocating one per token.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DeltaAsync(string text, IReadOnlyList<ToolCall> calls, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
    {
        var lp = LogprobDto.From(logprobs);
        // Text goes out when there is some, or when the delta is only text (a piece, or held log-probabilities).
        if (text.Length > 0 || calls.Count == 0)
        {
            await WriteAsync(chunks.Text(text, lp, _first), ct);
            lp = null;
        }
        if (calls.Count > 0) await WriteAsync(chunks.Calls(calls, lp, _first), ct);
    }

    public async ValueTask ThinkingAsync(string thinking, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
    {
        if (chunks.Thinking(thinking, LogprobDto.From(logprobs), _first) is { } chunk) await WriteAsync(chunk, ct);
    }

    public async ValueTask FinishedAsync(GenerationOutcome outcome, CancellationToken ct)
    {
        if (_first) await WriteAsync(chunks.Text("", null, true), ct);
        await WriteAsync(chunks.Finish(outcome.FinishReason), ct);
        if (includeUsage) await WriteAsync(chunks.UsageOnly(OpenAIApi.UsageOf(outcome)), ct);
        await ServerSentEvents.DoneAsync(response, ct);
    }

    public async ValueTask FailedAsync(string message, CancellationToken ct) =>
        await ServerSentEvents.WriteAsync(response, new OpenAIError(new OpenAIErrorBody(message, "server_error", null, null)),
            OpenAIJsonContext.Wire.OpenAIError, ct);

    private Task WriteAsync(TChunk chunk, CancellationToken ct)
    {
        _first = false;
        return ServerSentEvents.WriteAsync(response, chunk, type, ct);
    }
}
