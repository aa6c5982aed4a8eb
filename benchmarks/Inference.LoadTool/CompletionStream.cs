using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Inference.LoadTool;

/// <summary>
/// Turns the server-sent events of a streaming OpenAI <c>POST /v1/completions</c> response (ours and
/// llama-server's have the same shape), each line stamped with its arrival time, into a
/// <see cref="RequestResult"/> with the generated text and the usage counts. Free of I/O, like
/// <see cref="GenerateStream"/>, so it is tested with synthetic timings.
/// </summary>
public sealed class CompletionStream : IResponseStream
{
    private readonly long _start;
    private readonly List<double> _itl = [];
    private readonly StringBuilder _text = new();
    private long _lastPiece = -1;
    private double? _ttft;
    private double? _finishMs;
    private int _pieces;
    private int _completionTokens;
    private int _promptTokens;
    private int _cachedTokens;
    private string? _error;

    /// <param name="startTimestamp">Stopwatch timestamp taken just before the request was sent.</param>
    public CompletionStream(long startTimestamp) => _start = startTimestamp;

    /// <summary>Set by the terminating <c>data: [DONE]</c> event.</summary>
    public bool Done { get; private set; }

    /// <summary>Consumes one line of the event stream; only <c>data:</c> lines carry anything.</summary>
    public void OnLine(string line, long timestamp)
    {
        if (!line.StartsWith("data:", StringComparison.Ordinal)) return; // blank separators, comments, event names
        var data = line.AsSpan(5).Trim();
        if (data.SequenceEqual("[DONE]"))
        {
            Done = true;
            return;
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(data.ToString()); }
        catch (JsonException e)
        {
            _error ??= $"bad event: {e.Message}";
            return;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                _error ??= "event is not an object";
                return;
            }
            if (root.TryGetProperty("error", out var err))
            {
                _error ??= err.ValueKind == JsonValueKind.Object && err.TryGetProperty("message", out var m) ? m.GetString() : err.GetRawText();
                return;
            }
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
            {
                var choice = choices[0];
                if (choice.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } piece)
                {
                    _text.Append(piece);
                    _pieces++;
                    if (_lastPiece < 0) _ttft = Ms(_start, timestamp);
                    else _itl.Add(Ms(_lastPiece, timestamp));
                    _lastPiece = timestamp;
                }
                if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String)
                    _finishMs ??= Ms(_start, timestamp);
            }
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                _completionTokens = Int(usage, "completion_tokens");
                _promptTokens = Int(usage, "prompt_tokens");
                if (usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object)
                    _cachedTokens = Int(details, "cached_tokens");
            }
        }
    }

    public void Fail(string error) => _error ??= error;

    public RequestResult Complete(int index, int? statusCode, long endTimestamp)
    {
        var error = _error
            ?? (!Done ? "stream ended without data: [DONE]"
                : _finishMs is null ? "no choice carried a finish_reason"
                : _completionTokens == 0 ? "no usage with completion_tokens (stream_options.include_usage)" : null);
        return new RequestResult
        {
            Index = index,
            Error = error,
            StatusCode = statusCode,
            TtftMs = _ttft,
            InterTokenMs = _itl,
            Pieces = _pieces,
            EvalCount = _completionTokens,
            PromptEvalCount = _promptTokens,
            CachedPromptTokens = _cachedTokens,
            FinishMs = _finishMs,
            Text = _text.ToString(),
            TotalMs = Ms(_start, endTimestamp),
        };
    }

    private static int Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.TryGetInt32(out var n) ? n : 0;

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
