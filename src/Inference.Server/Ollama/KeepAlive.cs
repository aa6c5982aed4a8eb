using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Inference.Server.Ollama;

/// <summary>Parses Ollama's keep_alive: a number of seconds or a Go duration ("5m", "1h30m", "-1").</summary>
public static partial class KeepAlive
{
    public static bool TryParse(JsonElement? value, TimeSpan fallback, out TimeSpan result, out string? error)
    {
        result = fallback;
        error = null;
        if (value is not { } v || v.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return true;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var seconds) && double.IsFinite(seconds))
        {
            result = Seconds(seconds);
            return true;
        }
        if (v.ValueKind == JsonValueKind.String && TryParseDuration(v.GetString()!, out result)) return true;
        error = "invalid keep_alive: use a duration such as \"5m\", \"1h\" or \"-1\", or a number of seconds";
        return false;
    }

    public static bool TryParseDuration(string text, out TimeSpan result)
    {
        result = default;
        text = text.Trim();
        if (text.Length == 0) return false;
        // "NaN" and "Infinity" parse as doubles but are no duration.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            if (!double.IsFinite(seconds)) return false;
            result = Seconds(seconds);
            return true;
        }
        var match = GoDuration().Match(text);
        if (!match.Success) return false;
        double total = 0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var m = Part().Match(part.Value);
            double n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "ns" => n / 1e9, "us" or "µs" => n / 1e6, "ms" => n / 1e3,
                "s" => n, "m" => n * 60, "h" => n * 3600, _ => 0,
            };
        }
        result = Seconds(match.Groups["sign"].Value == "-" ? -total : total);
        return true;
    }

    // Any negative value means "keep loaded"; we represent that as -1 second. A duration longer than
    // a TimeSpan holds (about 29,000 years) is the longest one, which the manager treats as forever.
    private static TimeSpan Seconds(double s) =>
        s < 0 ? TimeSpan.FromSeconds(-1) : s >= TimeSpan.MaxValue.TotalSeconds - 1 ? TimeSpan.MaxValue : TimeSpan.FromSeconds(s);

    [GeneratedRegex(@"^(?<sign>[-+]?)(?<part>\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")]
    private static partial Regex GoDuration();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$")]
    private static partial Regex Part();
}
