using System.Text;
using System.Text.Json;
using Inference.Engine.Scheduling;
using Inference.Engine.Tools;
using Inference.Server.Generation;
using Inference.Server.Http;

namespace Inference.Server.Responses;

/// <summary>
/// The pipeline's events as the Responses API's stream, each numbered by sequence_number: response.created and
/// response.in_progress; for reasoning, first, a reasoning item (output_item.added, reasoning_summary_part.added,
/// reasoning_summary_text.delta..., reasoning_summary_text.done, reasoning_summary_part.done, output_item.done: Ollama's
/// events plus OpenAI's summary part events around them); for text a message item (output_item.added, content_part.added, output_text.delta...,
/// output_text.done, content_part.done, output_item.done); for each call a function_call item (output_item.added,
/// function_call_arguments.delta with the whole arguments, since calls arrive complete, .done, output_item.done);
/// then response.completed, or response.incomplete when max_output_tokens cut it. A failure after the stream
/// started is an "error" event.
/// </summary>
internal sealed class ResponsesEventStream(HttpResponse response, ResponseObject shell) : IGenerationWriter
{
    private static readonly IReadOnlyList<JsonElement> NoLogprobs = [];
    private readonly List<OutputItem> _output = [];
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _thinking = new();
    private string? _messageId, _reasoningId;
    private int _sequence;

    public async Task StartAsync(CancellationToken ct)
    {
        await WriteAsync(Event("response.created") with { Response = shell });
        await WriteAsync(Event("response.in_progress") with { Response = shell });

        Task WriteAsync(ResponseStreamEvent e) => this.WriteAsync(e, ct);
    }

    public async ValueTask ThinkingAsync(string thinking, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
    {
        if (_reasoningId is null)
        {
            await CloseMessageAsync("completed", ct);
            _reasoningId = ResponsesApi.NewId("rs_");
            await WriteAsync(Event("response.output_item.added") with { OutputIndex = _output.Count, Item = new OutputItem("reasoning", _reasoningId) { Summary = [] } }, ct);
            await WriteAsync(Event("response.reasoning_summary_part.added") with
            {
                ItemId = _reasoningId, OutputIndex = _output.Count, SummaryIndex = 0, Part = OutputText.SummaryText(""),
            }, ct);
        }
        _thinking.Append(thinking);
        await WriteAsync(Event("response.reasoning_summary_text.delta") with
        {
            ItemId = _reasoningId, OutputIndex = _output.Count, SummaryIndex = 0, Delta = thinking,
        }, ct);
    }

    public async ValueTask DeltaAsync(string text, IReadOnlyList<ToolCall> calls, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
    {
        if (text.Length > 0 || calls.Count > 0) await CloseReasoningAsync(ct);
        if (text.Length > 0)
        {
            if (_messageId is null) await OpenMessageAsync(ct);
            _text.Append(text);
            await WriteAsync(Event("response.output_text.delta") with
            {
                ItemId = _messageId, OutputIndex = _output.Count, ContentIndex = 0, Delta = text, Logprobs = NoLogprobs,
            }, ct);
        }
        foreach (var call in calls)
        {
            await CloseMessageAsync("completed", ct);
            var item = ResponsesApi.FunctionCall(call);
            int index = _output.Count;
            await WriteAsync(Event("response.output_item.added") with { OutputIndex = index, Item = item with { Arguments = "", Status = "in_progress" } }, ct);
            await WriteAsync(Event("response.function_call_arguments.delta") with { ItemId = item.Id, OutputIndex = index, Delta = item.Arguments }, ct);
            await WriteAsync(Event("response.function_call_arguments.done") with
            {
                ItemId = item.Id, OutputIndex = index, Name = item.Name, Arguments = item.Arguments,
            }, ct);
            await WriteAsync(Event("response.output_item.done") with { OutputIndex = index, Item = item }, ct);
            _output.Add(item);
        }
    }

    public async ValueTask FinishedAsync(GenerationOutcome outcome, CancellationToken ct)
    {
        var final = ResponsesApi.Finished(shell, outcome);
        await CloseReasoningAsync(ct);
        // Without calls there is always a message, empty when no text was generated (as in the whole response).
        if (_output.All(i => i.Type == "reasoning") && _messageId is null) await OpenMessageAsync(ct);
        await CloseMessageAsync(final.Status, ct);
        await WriteAsync(Event(final.Status == "completed" ? "response.completed" : "response.incomplete") with
        {
            Response = final with { Output = _output },
        }, ct);
    }

    public async ValueTask FailedAsync(string message, CancellationToken ct) =>
        await WriteAsync(Event("error") with { Code = "server_error", Message = message }, ct);

    private async Task OpenMessageAsync(CancellationToken ct)
    {
        _messageId = ResponsesApi.NewId("msg_");
        await WriteAsync(Event("response.output_item.added") with
        {
            OutputIndex = _output.Count, Item = new OutputItem("message", _messageId) { Status = "in_progress", Role = "assistant", Content = [] },
        }, ct);
        await WriteAsync(Event("response.content_part.added") with
        {
            ItemId = _messageId, OutputIndex = _output.Count, ContentIndex = 0, Part = new OutputText(""),
        }, ct);
    }

    private async Task CloseMessageAsync(string status, CancellationToken ct)
    {
        if (_messageId is not { } id) return;
        var text = _text.ToString();
        int index = _output.Count;
        await WriteAsync(Event("response.output_text.done") with
        {
            ItemId = id, OutputIndex = index, ContentIndex = 0, Text = text, Logprobs = NoLogprobs,
        }, ct);
        await WriteAsync(Event("response.content_part.done") with { ItemId = id, OutputIndex = index, ContentIndex = 0, Part = new OutputText(text) }, ct);
        var item = ResponsesApi.Message(id, text, status);
        await WriteAsync(Event("response.output_item.done") with { OutputIndex = index, Item = item }, ct);
        _output.Add(item);
        _messageId = null;
        _text.Clear();
    }

    private async Task CloseReasoningAsync(CancellationToken ct)
    {
        if (_reasoningId is not { } id) return;
        var thinking = _thinking.ToString();
        int index = _output.Count;
        await WriteAsync(Event("response.reasoning_summary_text.done") with { ItemId = id, OutputIndex = index, SummaryIndex = 0, Text = thinking }, ct);
        await WriteAsync(Event("response.reasoning_summary_part.done") with
        {
            ItemId = id, OutputIndex = index, SummaryIndex = 0, Part = OutputText.SummaryText(thinking),
        }, ct);
        var item = ResponsesReasoning.Item(id, thinking);
        await WriteAsync(Event("response.output_item.done") with { OutputIndex = index, Item = item }, ct);
        _output.Add(item);
        _reasoningId = null;
        _thinking.Clear();
    }

    private ResponseStreamEvent Event(string type) => new(type, _sequence++);

    private Task WriteAsync(ResponseStreamEvent e, CancellationToken ct) =>
        ServerSentEvents.WriteEventAsync(response, e.Type, e, ResponsesJsonContext.Wire.ResponseStreamEvent, ct);
}
