using System.Diagnostics;
using System.Text.Json;

namespace Inference.LoadTool;

/// <summary>
/// Turns the NDJSON lines of a streaming /api/generate response, each stamped with its arrival time,
/// into a <see cref="RequestResult"/>. Kept free of I/O so it can be unit-tested with synthetic timings.
/// </summary>
public sealed class GenerateStream : IResponseStream
{
    private readonly long _start;
    private readonly List<double> _itl = [];
    private long _lastPiece = -1;
    private double? _ttft;
    private int _pieces;
    private int _evalCount;
    private int _promptEvalCount;
    private string? _error;

    /// <param name="startTimestamp">Stopwatch timestamp taken just before the request was sent.</param>
    public GenerateStream(long startTimestamp) => _start = startTimestamp;

    public bool Done { get; private set; }

    /// <summary>Consumes one line; blank lines are ignored (some servers send keep-alive newlines).</summary>
    public void OnLine(string line, long timestamp)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e)
        {
            _error ??= $"bad NDJSON line: {e.Message}";
            return;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                _error ??= "NDJSON line is not an object";
                return;
            }
            if (root.TryGetProperty("error", out var err))
            {
                _error ??= err.ValueKind == JsonValueKind.String ? err.GetString() : err.GetRawText();
                return;
            }
            if (root.TryGetProperty("response", out var resp) && resp.ValueKind == JsonValueKind.String
                && resp.GetString() is { Length: > 0 })
            {
                _pieces++;
                if (_lastPiece < 0) _ttft = Ms(_start, timestamp);
                else _itl.Add(Ms(_lastPiece, timestamp));
                _lastPiece = timestamp;
            }
            if (root.TryGetProperty("done", out var done) && done.ValueKind == JsonValueKind.True)
            {
                Done = true;
                _evalCount = Int(root, "eval_count");
                _promptEvalCount = Int(root, "prompt_eval_count");
            }
        }
    }

    public void Fail(string error) => _error ??= error;

    public RequestResult Complete(int index, int? statusCode, long endTimestamp)
    {
        var error = _error ?? (Done ? null : "stream ended without a done line");
        return new RequestResult
        {
            Index = index,
            Error = error,
            StatusCode = statusCode,
            TtftMs = _ttft,
            InterTokenMs = _itl,
            Pieces = _pieces,
            EvalCount = _evalCount,
            PromptEvalCount = _promptEvalCount,
            TotalMs = Ms(_start, endTimestamp),
        };
    }

    private static int Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.TryGetInt32(out var n) ? n : 0;

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
