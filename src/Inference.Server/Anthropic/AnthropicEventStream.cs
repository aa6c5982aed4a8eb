using System.Text.Json;
using Inference.Engine.Scheduling;
using Inference.Engine.Tools;
using Inference.Server.Generation;
using Inference.Server.Http;

namespace Inference.Server.Anthropic;

/// <summary>
/// The pipeline's events as Anthropic's stream: message_start; then per content block content_block_start,
/// its deltas (thinking_delta for the reasoning, which comes first; text_delta; or one input_json_delta holding
/// a tool call's whole input, since calls arrive complete) and content_block_stop; then message_delta (stop reason, usage) and message_stop. A failure after
/// the stream started is an "error" event, as Anthropic sends one.
/// </summary>
internal sealed class AnthropicEventStream(HttpResponse response, string id, string model, IReadOnlyList<string>? stopSequences) : IGenerationWriter
{
    private int _blocks;
    private bool _textOpen, _thinkingOpen;

    public Task StartAsync(int inputTokens, CancellationToken ct) =>
        WriteAsync("message_start", new MessageStartEvent(new MessageResponse
        {
            Id = id, Model = model, Content = [], Usage = new AnthropicUsage(inputTokens, 0),
        }), AnthropicJsonContext.Wire.MessageStartEvent, ct);

    public async ValueTask ThinkingAsync(string thinking, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
    {
        if (!_thinkingOpen)
        {
            await CloseTextAsync(ct);
            await WriteAsync("content_block_start", new ContentBlockStartEvent(_blocks, ContentBlock.OfThinking("")),
                AnthropicJsonContext.Wire.ContentBlockStartEvent, ct);
            _thinkingOpen = true;
        }
        await WriteAsync("content_block_delta", new ContentBlockDeltaEvent(_blocks, new BlockDelta("thinking_delta") { Thinking = thinking }),
            AnthropicJsonContext.Wire.ContentBlockDeltaEvent, ct);
    }

    public async ValueTask DeltaAsync(string text, IReadOnlyList<ToolCall> calls, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
    {
        if (text.Length > 0 || calls.Count > 0) await CloseThinkingAsync(ct);
        if (text.Length > 0)
        {
            if (!_textOpen)
            {
                await WriteAsync("content_block_start", new ContentBlockStartEvent(_blocks, ContentBlock.OfText("")),
                    AnthropicJsonContext.Wire.ContentBlockStartEvent, ct);
                _textOpen = true;
            }
            await WriteAsync("content_block_delta", new ContentBlockDeltaEvent(_blocks, new BlockDelta("text_delta") { Text = text }),
                AnthropicJsonContext.Wire.ContentBlockDeltaEvent, ct);
        }
        foreach (var call in calls)
        {
            await CloseTextAsync(ct);
            var block = AnthropicApi.ToolUse(call);
            await WriteAsync("content_block_start", new ContentBlockStartEvent(_blocks, block with { Input = AnthropicApi.EmptyInput }),
                AnthropicJsonContext.Wire.ContentBlockStartEvent, ct);
            await WriteAsync("content_block_delta", new ContentBlockDeltaEvent(_blocks,
                new BlockDelta("input_json_delta") { PartialJson = JsonSerializer.Serialize(call.Arguments, AnthropicJsonContext.Wire.JsonElement) }),
                AnthropicJsonContext.Wire.ContentBlockDeltaEvent, ct);
            await WriteAsync("content_block_stop", new ContentBlockStopEvent(_blocks++), AnthropicJsonContext.Wire.ContentBlockStopEvent, ct);
        }
    }

    public async ValueTask FinishedAsync(GenerationOutcome outcome, CancellationToken ct)
    {
        await CloseThinkingAsync(ct);
        await CloseTextAsync(ct);
        var (reason, sequence) = AnthropicApi.StopReason(outcome, stopSequences);
        await WriteAsync("message_delta", new MessageDeltaEvent(new StopDelta(reason, sequence), AnthropicApi.UsageOf(outcome)),
            AnthropicJsonContext.Wire.MessageDeltaEvent, ct);
        await WriteAsync("message_stop", new MessageStopEvent(), AnthropicJsonContext.Wire.MessageStopEvent, ct);
    }

    public async ValueTask FailedAsync(string message, CancellationToken ct) =>
        await WriteAsync("error", AnthropicErrors.Body(StatusCodes.Status500InternalServerError, message), AnthropicJsonContext.Wire.AnthropicError, ct);

    private async Task CloseTextAsync(CancellationToken ct)
    {
        if (!_textOpen) return;
        _textOpen = false;
        await WriteAsync("content_block_stop", new ContentBlockStopEvent(_blocks++), AnthropicJsonContext.Wire.ContentBlockStopEvent, ct);
    }

    private async Task CloseThinkingAsync(CancellationToken ct)
    {
        if (!_thinkingOpen) return;
        _thinkingOpen = false;
        await WriteAsync("content_block_stop", new ContentBlockStopEvent(_blocks++), AnthropicJsonContext.Wire.ContentBlockStopEvent, ct);
    }

    private Task WriteAsync<T>(string name, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct) =>
        ServerSentEvents.WriteEventAsync(response, name, value, type, ct);
}
