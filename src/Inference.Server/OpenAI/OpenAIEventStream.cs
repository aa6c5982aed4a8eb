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

internal sealed class ChatChunks(string id, long created, string model, int index = 0) : OpenAIChunks<ChatCompletionChunk>
{
    private ChatCompletionChunk Chunk(ChunkDelta delta, string? finish = null, IReadOnlyList<LogprobDto>? logprobs = null) =>
        new() { Id = id, Created = created, Model = model, Choices = [new ChunkChoice(index, delta, finish, logprobs is null ? null : new(logprobs))] };

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

/// <summary>The completions of one choice; with <paramref name="logprobs"/>, each carries its tokens' legacy log-probabilities.</summary>
internal sealed class CompletionChunks(string id, long created, string model, int index = 0, bool logprobs = false) : OpenAIChunks<Completion>
{
    // Where the next token starts in this choice's text (the legacy text_offset), continued across chunks.
    private int _offset;

    /// <summary>The whole response of n choices: choice i is written by chunks(i) (this one being choice 0's).</summary>
    public Completion Whole(IReadOnlyList<GeneratedText> choices, Func<int, CompletionChunks> chunks, Usage usage) => new()
    {
        Id = id, Created = created, Model = model, Usage = usage,
        Choices = [.. choices.Select((c, i) => chunks(i).Choice(c.Text, LogprobDto.From(c.Logprobs), c.Outcome.FinishReason))],
    };

    private CompletionChoice Choice(string text, IReadOnlyList<LogprobDto>? tokens, string? finish) =>
        new(text, index, logprobs ? LegacyLogprobs.From(tokens ?? [], ref _offset) : null, finish);

    private Completion Chunk(CompletionChoice choice) => new() { Id = id, Created = created, Model = model, Choices = [choice] };

    public override Completion Text(string text, IReadOnlyList<LogprobDto>? logprobs, bool first) => Chunk(Choice(text, logprobs, null));

    // A completion has no tools: the pipeline never sends calls for it.
    public override Completion Calls(IReadOnlyList<ToolCall> calls, IReadOnlyList<LogprobDto>? logprobs, bool first) =>
        throw new InvalidOperationException("completions have no tool calls");

    public override Completion Finish(string reason) => Chunk(new CompletionChoice("", index, null, reason));

    public override Completion UsageOnly(Usage usage) => new() { Id = id, Created = created, Model = model, Choices = [], Usage = usage };
}

/// <summary>
/// One choice's events as OpenAI's server-sent events: text and tool-call deltas as chunks (the first naming the
/// role), then a chunk with the finish reason. The n choices of a request share the response, so every write
/// holds <paramref name="gate"/>; the usage chunk and [DONE] are written once all have finished (see
/// <see cref="OpenAIChoices"/>). A failure after the stream started is an error event.
/// </summary>
internal sealed class OpenAIEventStream<TChunk>(HttpResponse response, OpenAIChunks<TChunk> chunks, JsonTypeInfo<TChunk> type, SemaphoreSlim gate)
    : IGenerationWriter
{
    private bool _first = true;

    /// <summary>How the choice finished; null until it has (or when it failed).</summary>
    public GenerationOutcome? Outcome { get; private set; }

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
        Outcome = outcome;
    }

    public async ValueTask FailedAsync(string message, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            await ServerSentEvents.WriteAsync(response, new OpenAIError(new OpenAIErrorBody(message, "server_error", null, null)),
                OpenAIJsonContext.Wire.OpenAIError, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task WriteAsync(TChunk chunk, CancellationToken ct)
    {
        _first = false;
        await gate.WaitAsync(ct);
        try
        {
            await ServerSentEvents.WriteAsync(response, chunk, type, ct);
        }
        finally
        {
            gate.Release();
        }
    }
}
