using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Inference.Engine.Prompting;

/// <summary>
/// The value model of the evaluator. Every value is one of: null (Go's nil), string, long (Go int),
/// double (float64), bool, <see cref="IList"/> (slice), <see cref="IDictionary"/> with string keys (map),
/// <see cref="TemplateStruct"/> (a struct with json tags), or an object whose public properties are its
/// fields (struct). <see cref="Normalize"/> maps other CLR values (int, float, JsonElement, read-only
/// collections, ...) onto this model.
/// </summary>
internal static class GoValues
{
    public static object? Normalize(object? value) => value switch
    {
        null or string or long or double or bool => value,
        int or short or sbyte or byte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        ulong u => u <= long.MaxValue ? (long)u : (double)u,
        float or decimal => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        char c => (long)c,
        JsonElement json => FromJson(json),
        IDictionary or IList or TemplateData or TemplateMessage => value,
        IEnumerable<KeyValuePair<string, object?>> pairs => pairs.ToDictionary(p => p.Key, p => p.Value),
        IEnumerable items => items.Cast<object?>().ToList(),
        _ => value,
    };

    /// <summary>JSON objects keep their member order; values are converted when they are reached.</summary>
    private static object? FromJson(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.String => json.GetString(),
        JsonValueKind.Number => json.TryGetInt64(out long l) ? l : json.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => json.EnumerateArray().Select(e => (object?)e).ToList(),
        JsonValueKind.Object => json.EnumerateObject().Aggregate(new Dictionary<string, object?>(),
            (d, p) => { d[p.Name] = p.Value; return d; }),
        _ => null,
    };

    /// <summary>
    /// Go's truth rule for if/with/and/or/not: false, 0, nil, and empty strings, slices and maps are false;
    /// everything else (including any struct) is true.
    /// </summary>
    public static bool IsTrue(object? value) => Normalize(value) switch
    {
        null => false,
        string s => s.Length > 0,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    /// <summary>Go's type names as they appear in its error messages.</summary>
    public static string TypeName(object? value) => Normalize(value) switch
    {
        null => "<nil>",
        string => "string",
        long => "int",
        double => "float64",
        bool => "bool",
        IDictionary => "map[string]interface {}",
        IList => "[]interface {}",
        TemplateStruct s => s.TypeName,
        var other => other.GetType().Name,
    };

    /// <summary>
    /// Text written for "{{ value }}". Nil prints as "" (a missing or unset value in Ollama's data is an
    /// empty string). Maps and slices print as JSON, as Ollama's tool types (whose String methods marshal
    /// JSON) do; plain Go would print "map[...]" / "[a b]" here.
    /// </summary>
    public static string Print(object? value) => Normalize(value) switch
    {
        null => "",
        var v => Format(v),
    };

    /// <summary>fmt's %v: like <see cref="Print"/> but nil is "&lt;nil&gt;".</summary>
    public static string Format(object? value) => Normalize(value) switch
    {
        null => "<nil>",
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatFloat(d),
        IDictionary or IList or TemplateMessage or TemplateStruct => Json(value),
        var other => other.ToString() ?? "",
    };

    /// <summary>Go's %v for float64 (strconv 'g', shortest): exponent form below 1e-4 or from 1e6 on, e.g. "1e+06".</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d))
            return "NaN";
        if (double.IsInfinity(d))
            return d > 0 ? "+Inf" : "-Inf";
        var (digits, dp) = ShortestDigits(d);
        int exp = digits.Length == 0 ? 0 : dp - 1;
        // With shortest precision strconv's 'g' uses %e when exp < -4 || exp >= 6.
        return exp < -4 || exp >= 6
            ? FormatE(d < 0, digits, dp, Math.Max(digits.Length - 1, 0))
            : FormatF(d < 0, digits, dp, Math.Max(digits.Length - dp, 0));
    }

    /// <summary>Shortest round-trip decimal digits (no leading/trailing zeros) and the decimal point position.</summary>
    private static (string Digits, int DecimalPoint) ShortestDigits(double d)
    {
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int e = 0;
        int ePos = r.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            e = int.Parse(r[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..ePos];
        }
        int point = r.IndexOf('.');
        int dp = (point < 0 ? r.Length : point) + e;
        string digits = r.Replace(".", "");
        int lead = 0;
        while (lead < digits.Length && digits[lead] == '0')
            lead++;
        digits = digits[lead..].TrimEnd('0');
        return (digits, dp - lead);
    }

    private static string FormatF(bool negative, string digits, int dp, int fraction)
    {
        var sb = new StringBuilder();
        if (negative)
            sb.Append('-');
        if (dp > 0)
            for (int i = 0; i < dp; i++)
                sb.Append(i < digits.Length ? digits[i] : '0');
        else
            sb.Append('0');
        if (fraction > 0)
        {
            sb.Append('.');
            for (int i = 0; i < fraction; i++)
            {
                int at = dp + i;
                sb.Append(at >= 0 && at < digits.Length ? digits[at] : '0');
            }
        }
        return sb.ToString();
    }

    private static string FormatE(bool negative, string digits, int dp, int fraction)
    {
        var sb = new StringBuilder();
        if (negative)
            sb.Append('-');
        sb.Append(digits.Length > 0 ? digits[0] : '0');
        if (fraction > 0)
        {
            sb.Append('.');
            for (int i = 1; i <= fraction; i++)
                sb.Append(i < digits.Length ? digits[i] : '0');
        }
        int exp = digits.Length == 0 ? 0 : dp - 1;
        sb.Append(exp < 0 ? "e-" : "e+").Append(Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    /// <summary>
    /// Ollama's "json" function: Go's json.Marshal. Strings use Go's escaping (HTML characters as \u003c etc.,
    /// non-ASCII kept). Dictionaries keep their enumeration order (mirroring Ollama's struct field order);
    /// NaN or infinity make Marshal fail, which Ollama turns into "".
    /// </summary>
    public static string Json(object? value)
    {
        var sb = new StringBuilder();
        return WriteJson(sb, value) ? sb.ToString() : "";
    }

    private static bool WriteJson(StringBuilder sb, object? value)
    {
        switch (Normalize(value))
        {
            case null:
                sb.Append("null");
                return true;
            case string s:
                WriteJsonString(sb, s);
                return true;
            case bool b:
                sb.Append(b ? "true" : "false");
                return true;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                return true;
            case double d:
                return WriteJsonFloat(sb, d);
            case IDictionary map:
                return WriteJsonObject(sb, map.Keys.Cast<object>().Select(k => (Convert.ToString(k, CultureInfo.InvariantCulture) ?? "", map[k])));
            case IList list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0)
                        sb.Append(',');
                    if (!WriteJson(sb, list[i]))
                        return false;
                }
                sb.Append(']');
                return true;
            case TemplateMessage m:
                var fields = new List<(string, object?)> { ("role", m.Role ?? ""), ("content", m.Content ?? "") };
                if (!string.IsNullOrEmpty(m.Thinking))
                    fields.Add(("thinking", m.Thinking));
                if (m.ToolCalls is { Count: > 0 })
                    fields.Add(("tool_calls", m.ToolCalls));
                return WriteJsonObject(sb, fields);
            case TemplateStruct s:
                return WriteJsonObject(sb, s.Fields
                    .Where(f => !(f.OmitEmpty && IsEmpty(f.Value)))
                    .Select(f => (f.JsonName ?? f.Name, f.Value)));
            case var other:
                return WriteJsonObject(sb, other.GetType()
                    .GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.GetIndexParameters().Length == 0)
                    .Select(p => (p.Name, p.GetValue(other))));
        }
    }

    /// <summary>encoding/json's omitempty test: false, 0, nil, and empty strings, slices and maps.</summary>
    private static bool IsEmpty(object? value) => Normalize(value) switch
    {
        null => true,
        string s => s.Length == 0,
        bool b => !b,
        long l => l == 0,
        double d => d == 0,
        ICollection c => c.Count == 0,
        _ => false,
    };

    private static bool WriteJsonObject(StringBuilder sb, IEnumerable<(string Key, object? Value)> members)
    {
        sb.Append('{');
        bool first = true;
        foreach (var (key, member) in members)
        {
            if (!first)
                sb.Append(',');
            first = false;
            WriteJsonString(sb, key);
            sb.Append(':');
            if (!WriteJson(sb, member))
                return false;
        }
        sb.Append('}');
        return true;
    }

    /// <summary>encoding/json float format: shortest 'f' form, or 'e' below 1e-6 or from 1e21 on ("1e-7", not "1e-07").</summary>
    private static bool WriteJsonFloat(StringBuilder sb, double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d))
            return false;
        var (digits, dp) = ShortestDigits(d);
        double abs = Math.Abs(d);
        if (abs != 0 && (abs < 1e-6 || abs >= 1e21))
        {
            string e = FormatE(d < 0, digits, dp, Math.Max(digits.Length - 1, 0));
            int n = e.Length;
            if (n >= 4 && e[n - 4] == 'e' && e[n - 3] == '-' && e[n - 2] == '0')
                e = e[..(n - 2)] + e[n - 1];
            sb.Append(e);
        }
        else
        {
            sb.Append(FormatF(d < 0, digits, dp, Math.Max(digits.Length - dp, 0)));
        }
        return true;
    }

    private static void WriteJsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                case var _ when char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]):
                    sb.Append(c).Append(s[++i]);
                    break;
                case var _ when char.IsSurrogate(c):
                    sb.Append("\\ufffd"); // invalid UTF-16 (Go: invalid UTF-8) becomes U+FFFD
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
