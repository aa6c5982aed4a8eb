using System.Collections;
using System.Globalization;
using System.Text;

namespace Inference.Engine.Prompting;

/// <summary>An error raised by a template function; the evaluator reports it as "error calling NAME: ...".</summary>
internal sealed class TemplateFunctionException(string message) : Exception(message);

/// <summary>A function was building a string longer than <see cref="TemplateLimits.MaxOutputChars"/>; it stops before allocating more.</summary>
internal sealed class TemplateValueTooLargeException() : Exception("value too large");

/// <summary>
/// A callable template function. <see cref="MaxArgs"/> is -1 for variadic functions. <see cref="ParamType"/> is
/// the Go parameter type, which decides whether a literal nil may be passed: Go's builtins take reflect.Value
/// and reject it ("cannot assign nil to reflect.Value"); functions taking "any" accept it.
/// </summary>
internal sealed record TemplateFunction(
    int MinArgs, int MaxArgs, Func<object?[], TimeProvider, object?> Invoke, string ParamType = "reflect.Value");

/// <summary>
/// The functions available to templates: Go's text/template builtins that prompt templates use, plus the
/// ones Ollama registers (json, currentDate, yesterdayDate). "and"/"or" are evaluated lazily by the evaluator.
/// Not provided: html, js, urlquery, call, and Ollama's toTypeScriptType.
/// </summary>
internal static class TemplateFunctions
{
    private static readonly Dictionary<string, TemplateFunction> Table = new()
    {
        ["and"] = new(1, -1, (_, _) => throw new InvalidOperationException("and is evaluated lazily")),
        ["or"] = new(1, -1, (_, _) => throw new InvalidOperationException("or is evaluated lazily")),
        ["not"] = new(1, 1, (a, _) => !GoValues.IsTrue(a[0])),
        ["len"] = new(1, 1, (a, _) => Length(a[0])),
        ["index"] = new(1, -1, (a, _) => Index(a[0], a[1..])),
        ["slice"] = new(1, -1, (a, _) => Slice(a[0], a[1..])),
        ["print"] = new(0, -1, (a, _) => Sprint(a), "any"),
        ["println"] = new(0, -1, (a, _) => Println(a), "any"),
        ["printf"] = new(1, -1, (a, _) => Sprintf(a[0] as string
            ?? throw new TemplateFunctionException($"wrong type for value; expected string; got {GoValues.TypeName(a[0])}"), a[1..]), "any"),
        ["eq"] = new(1, -1, (a, _) => Equal(a[0], a[1..])),
        ["ne"] = new(2, 2, (a, _) => !Equal(a[0], a[1..])),
        ["lt"] = new(2, 2, (a, _) => Less(a[0], a[1])),
        ["le"] = new(2, 2, (a, _) => Less(a[0], a[1]) || Equal(a[0], a[1..])),
        ["gt"] = new(2, 2, (a, _) => !(Less(a[0], a[1]) || Equal(a[0], a[1..]))),
        ["ge"] = new(2, 2, (a, _) => !Less(a[0], a[1])),
        ["json"] = new(1, 1, (a, _) => GoValues.Json(a[0]), "any"),
        // Ollama ignores the optional format argument and always uses YYYY-MM-DD in local time.
        ["currentDate"] = new(0, -1, (a, time) => Date(a, time, 0), "string"),
        ["yesterdayDate"] = new(0, -1, (a, time) => Date(a, time, -1), "string"),
    };

    public static bool IsDefined(string name) => Table.ContainsKey(name);

    public static TemplateFunction Get(string name) => Table[name];

    private static string Date(object?[] args, TimeProvider time, int days)
    {
        foreach (var arg in args)
            if (arg is not string)
                throw new TemplateFunctionException($"wrong type for value; expected string; got {GoValues.TypeName(arg)}");
        return time.GetLocalNow().AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    /// <summary>Go's len: strings count UTF-8 bytes, not characters.</summary>
    private static long Length(object? item) => GoValues.Normalize(item) switch
    {
        null => throw new TemplateFunctionException("len of nil pointer"),
        string s => Encoding.UTF8.GetByteCount(s),
        ICollection c => c.Count,
        var other => throw new TemplateFunctionException($"len of type {GoValues.TypeName(other)}"),
    };

    /// <summary>index x 1 2 is x[1][2]; a missing map key gives nil; indexing a string gives a byte (an int).</summary>
    private static object? Index(object? item, object?[] indexes)
    {
        item = GoValues.Normalize(item);
        if (item is null)
            throw new TemplateFunctionException("index of untyped nil");
        foreach (var rawIndex in indexes)
        {
            var index = GoValues.Normalize(rawIndex);
            switch (item)
            {
                case null:
                    throw new TemplateFunctionException("index of nil pointer");
                case string s:
                    var bytes = Encoding.UTF8.GetBytes(s);
                    item = (long)bytes[IndexArg(index, bytes.Length, exclusive: true)];
                    break;
                case IList list:
                    item = GoValues.Normalize(list[IndexArg(index, list.Count, exclusive: true)]);
                    break;
                case IDictionary map:
                    if (index is not string key)
                        throw new TemplateFunctionException(index is null
                            ? "value is nil; should be of type string"
                            : $"value has type {GoValues.TypeName(index)}; should be string");
                    item = map.Contains(key) ? GoValues.Normalize(map[key]) : null;
                    break;
                default:
                    throw new TemplateFunctionException($"can't index item of type {GoValues.TypeName(item)}");
            }
        }
        return item;
    }

    /// <summary>slice x 1 2 is x[1:2]; strings are sliced by UTF-8 bytes as in Go.</summary>
    private static object? Slice(object? item, object?[] indexes)
    {
        item = GoValues.Normalize(item);
        if (item is null)
            throw new TemplateFunctionException("slice of untyped nil");
        if (indexes.Length > 3)
            throw new TemplateFunctionException($"too many slice indexes: {indexes.Length}");
        int length = item switch
        {
            string s when indexes.Length == 3 => throw new TemplateFunctionException("cannot 3-index slice a string"),
            string s => Encoding.UTF8.GetByteCount(s),
            IList list => list.Count,
            _ => throw new TemplateFunctionException($"can't slice item of type {GoValues.TypeName(item)}"),
        };
        int[] idx = [0, length, length];
        for (int i = 0; i < indexes.Length; i++)
            idx[i] = IndexArg(GoValues.Normalize(indexes[i]), length, exclusive: false);
        if (idx[0] > idx[1])
            throw new TemplateFunctionException($"invalid slice index: {idx[0]} > {idx[1]}");
        if (indexes.Length == 3 && idx[1] > idx[2])
            throw new TemplateFunctionException($"invalid slice index: {idx[1]} > {idx[2]}");
        if (item is string str)
            return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(str), idx[0], idx[1] - idx[0]);
        var source = (IList)item;
        var result = new List<object?>(idx[1] - idx[0]);
        for (int i = idx[0]; i < idx[1]; i++)
            result.Add(source[i]);
        return result;
    }

    private static int IndexArg(object? index, int length, bool exclusive) => index switch
    {
        long x when x < 0 || x > length || (exclusive && x == length) =>
            throw new TemplateFunctionException($"index out of range: {x}"),
        long x => (int)x,
        null => throw new TemplateFunctionException("cannot index slice/array with nil"),
        _ => throw new TemplateFunctionException($"cannot index slice/array with type {GoValues.TypeName(index)}"),
    };

    /// <summary>
    /// Go's eq: "eq a b c" is a == b || a == c. Basic values (bool, int, float, string) compare by value;
    /// comparing two basic values of different kinds is an error, but anything compared with nil is just false.
    /// </summary>
    private static bool Equal(object? first, object?[] others)
    {
        if (others.Length == 0)
            throw new TemplateFunctionException("missing argument for comparison");
        var a = GoValues.Normalize(first);
        foreach (var other in others)
        {
            var b = GoValues.Normalize(other);
            bool truth;
            if (a is null || b is null)
                truth = a is null && b is null;
            else if (IsBasic(a) || IsBasic(b))
                truth = a.GetType() == b.GetType()
                    ? a.Equals(b)
                    : throw new TemplateFunctionException("incompatible types for comparison");
            else if (a is IList or IDictionary || b is IList or IDictionary)
                throw new TemplateFunctionException($"non-comparable types {GoValues.TypeName(a)}, {GoValues.TypeName(b)}");
            else
                truth = ReferenceEquals(a, b) || a.Equals(b);
            if (truth)
                return true;
        }
        return false;
    }

    private static bool IsBasic(object value) => value is bool or long or double or string;

    /// <summary>Go's lt: only ints, floats and strings of the same kind are ordered (strings bytewise).</summary>
    private static bool Less(object? first, object? second)
    {
        var a = GoValues.Normalize(first);
        var b = GoValues.Normalize(second);
        if (a is null || b is null || !IsBasic(a) || !IsBasic(b))
            throw new TemplateFunctionException("invalid type for comparison");
        if (a.GetType() != b.GetType())
            throw new TemplateFunctionException("incompatible types for comparison");
        return a switch
        {
            long x => x < (long)b,
            double x => x < (double)b,
            string x => string.CompareOrdinal(x, (string)b) < 0,
            _ => throw new TemplateFunctionException("invalid type for comparison"),
        };
    }

    /// <summary>fmt.Sprint: a space is added between operands when neither is a string.</summary>
    private static string Sprint(object?[] args)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < args.Length; i++)
        {
            if (i > 0 && args[i] is not string && args[i - 1] is not string)
                sb.Append(' ');
            Append(sb, GoValues.Format(args[i]));
        }
        return sb.ToString();
    }

    /// <summary>fmt.Sprintln: operands separated by spaces, then a newline.</summary>
    private static string Println(object?[] args)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < args.Length; i++)
        {
            if (i > 0) sb.Append(' ');
            Append(sb, GoValues.Format(args[i]));
        }
        return sb.Append('\n').ToString();
    }

    /// <summary>Appends unless the result would pass the value limit (checked before the copy, so nothing huge is built).</summary>
    private static void Append(StringBuilder sb, string text)
    {
        if (text.Length > TemplateLimits.MaxOutputChars - sb.Length) throw new TemplateValueTooLargeException();
        sb.Append(text);
    }

    /// <summary>
    /// fmt.Sprintf for the common verbs (%v %s %q %d %t %f %e %g %x %X %o %b %c %%) with flags "-+0 #",
    /// width and precision. Mismatches are reported inline the way Go does: %!d(string=x), %!s(MISSING).
    /// </summary>
    private static string Sprintf(string format, object?[] args)
    {
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%')
            {
                sb.Append(format[i]);
                continue;
            }
            int j = i + 1;
            bool minus = false, plus = false, zero = false;
            for (; j < format.Length && format[j] is '-' or '+' or '0' or ' ' or '#'; j++)
            {
                minus |= format[j] == '-';
                plus |= format[j] == '+';
                zero |= format[j] == '0';
            }
            int width = ReadInt(format, ref j);
            int precision = -1;
            if (j < format.Length && format[j] == '.')
            {
                j++;
                precision = Math.Max(ReadInt(format, ref j), 0);
            }
            if (j >= format.Length)
            {
                sb.Append("%!(NOVERB)");
                break;
            }
            char verb = format[j];
            i = j;
            if (verb == '%')
            {
                sb.Append('%');
                continue;
            }
            if (next >= args.Length)
            {
                sb.Append("%!").Append(verb).Append("(MISSING)");
                continue;
            }
            var arg = GoValues.Normalize(args[next++]);
            string? text = FormatVerb(verb, arg, plus, precision);
            if (text is null)
            {
                Append(sb, $"%!{verb}({Describe(arg)})");
                continue;
            }
            if (text.Length < width)
            {
                if (width > TemplateLimits.MaxOutputChars - sb.Length) throw new TemplateValueTooLargeException();
                bool numeric = arg is long or double && verb is not ('s' or 'q' or 'c');
                if (minus)
                    text = text.PadRight(width);
                else if (zero && numeric && text.Length > 0 && text[0] is '-' or '+')
                    text = text[0] + text[1..].PadLeft(width - 1, '0');
                else
                    text = text.PadLeft(width, zero && numeric ? '0' : ' ');
            }
            Append(sb, text);
        }
        if (next < args.Length)
        {
            sb.Append("%!(EXTRA ");
            for (int k = next; k < args.Length; k++)
                Append(sb, (k > next ? ", " : "") + Describe(args[k]));
            sb.Append(')');
        }
        return sb.ToString();
    }

    private static int ReadInt(string s, ref int j)
    {
        int start = j, value = 0;
        while (j < s.Length && char.IsAsciiDigit(s[j]) && j - start < 6)
            value = value * 10 + (s[j++] - '0');
        return value;
    }

    private static string Describe(object? arg) => arg is null ? "<nil>" : $"{GoValues.TypeName(arg)}={GoValues.Format(arg)}";

    /// <summary>Formats one argument, or returns null where Go reports a bad verb.</summary>
    private static string? FormatVerb(char verb, object? arg, bool plus, int precision)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (verb, arg)
        {
            case ('v', long l):
                return plus && l >= 0 ? "+" + GoValues.Format(l) : GoValues.Format(l);
            case ('v', _):
                return GoValues.Format(arg);
            case ('s', string s):
                return precision >= 0 && precision < s.Length ? s[..precision] : s;
            case ('s', IList or IDictionary):
                return GoValues.Format(arg);
            case ('q', string s):
                return Quote(s);
            case ('q', long l):
                return "'" + char.ConvertFromUtf32((int)l) + "'";
            case ('d', long l):
                return (plus && l >= 0 ? "+" : "") + l.ToString(inv);
            case ('t', bool b):
                return b ? "true" : "false";
            case ('f' or 'F', double d):
                return (plus && d >= 0 ? "+" : "") + d.ToString("F" + (precision < 0 ? 6 : precision), inv);
            case ('e', double d):
                string e = d.ToString("E" + (precision < 0 ? 6 : precision), inv);
                int exp = int.Parse(e[(e.IndexOf('E') + 1)..], NumberStyles.AllowLeadingSign, inv);
                return e[..e.IndexOf('E')] + (exp < 0 ? "e-" : "e+") + Math.Abs(exp).ToString("00", inv);
            case ('g', double d) when precision < 0:
                return GoValues.FormatFloat(d);
            case ('x', long l):
                return l < 0 ? "-" + (-l).ToString("x", inv) : l.ToString("x", inv);
            case ('X', long l):
                return l < 0 ? "-" + (-l).ToString("X", inv) : l.ToString("X", inv);
            case ('x', string s):
                return Convert.ToHexStringLower(Encoding.UTF8.GetBytes(s));
            case ('X', string s):
                return Convert.ToHexString(Encoding.UTF8.GetBytes(s));
            case ('o', long l):
                return Convert.ToString(l, 8);
            case ('b', long l):
                return Convert.ToString(l, 2);
            case ('c', long l):
                return char.ConvertFromUtf32((int)l);
            default:
                return null;
        }
    }

    /// <summary>strconv.Quote: a double-quoted Go string literal.</summary>
    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var rune in s.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\v': sb.Append("\\v"); break;
                case < 0x20 or 0x7f:
                    sb.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    var category = Rune.GetUnicodeCategory(rune);
                    bool printable = rune.Value == ' ' || category is not (UnicodeCategory.Control or UnicodeCategory.Format
                        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
                        or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
                    if (printable)
                        sb.Append(rune.ToString());
                    else if (rune.Value < 0x10000)
                        sb.Append("\\u").Append(rune.Value.ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append("\\U").Append(rune.Value.ToString("x8", CultureInfo.InvariantCulture));
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
