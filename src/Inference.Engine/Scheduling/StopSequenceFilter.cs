using System.Text;

namespace Inference.Engine.Scheduling;

/// <summary>
/// Holds back generated text that could be the start of a stop sequence, so a stop string is
/// never streamed to the client, and reports when one is complete.
/// </summary>
public sealed class StopSequenceFilter(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = stops.Where(s => s.Length > 0).ToArray();
    private readonly StringBuilder _held = new();

    /// <summary>The stop sequence that ended the output, once one has (Anthropic's stop_sequence names it).</summary>
    public string? Matched { get; private set; }

    /// <summary>Appends text; returns what is safe to emit and whether a stop sequence was hit.</summary>
    public (string Emit, bool Stopped) Push(string text)
    {
        if (_stops.Length == 0) return (text, false);
        _held.Append(text);
        var held = _held.ToString();

        int stopAt = -1;
        foreach (var stop in _stops)
        {
            int i = held.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (stopAt < 0 || i < stopAt))
            {
                stopAt = i;
                Matched = stop;
            }
        }
        if (stopAt >= 0)
        {
            _held.Clear();
            return (held[..stopAt], true);
        }

        int keep = LongestSuffixThatStartsAStop(held);
        _held.Clear().Append(held, held.Length - keep, keep);
        return (held[..^keep], false);
    }

    /// <summary>Text still held back when generation ends for another reason.</summary>
    public string Flush()
    {
        var rest = _held.ToString();
        _held.Clear();
        return rest;
    }

    private int LongestSuffixThatStartsAStop(string text)
    {
        int best = 0;
        foreach (var stop in _stops)
        {
            for (int len = Math.Min(stop.Length - 1, text.Length); len > best; len--)
            {
                if (text.AsSpan(text.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
