using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// Exact GBNF for integers and decimal numbers within a range. Integers are digit-range grammars in the
/// manner of llama.cpp's <c>build_min_max_int</c> (common/json-schema-to-grammar.cpp, MIT): one alternative per
/// digit count, and within a count the classic split "low prefix | full middle digits | high prefix", recursing
/// on the remaining digits. Unlike llama.cpp, one-sided ranges are closed at the primitive's own digit limit
/// (16 digits, see <see cref="PrimitiveRules"/>), so every range is two-sided and one code path serves all.
/// Numbers (llama.cpp ignores their bounds) are exact too: the integer part as above, and the fraction digits
/// compared digit by digit against the bounds' fractions; a bounded number has no exponent, at most 16 integer
/// and <see cref="FractionDigits"/> fraction digits. Bounds are read from the JSON text exactly (no binary
/// floating point), scaled to integers: an exclusive bound is the next representable value inside it.
/// </summary>
internal static class NumericRanges
{
    /// <summary>Integer digits of integers and of a bounded number's integer part, as in the primitives.</summary>
    public const int IntegerDigits = 16;

    /// <summary>Fraction digits of a bounded number (the primitive number allows as many).</summary>
    public const int FractionDigits = 16;

    private static readonly BigInteger IntegerLimit = BigInteger.Pow(10, IntegerDigits) - 1;
    private static readonly BigInteger FractionScale = BigInteger.Pow(10, FractionDigits);
    private static readonly BigInteger NumberLimit = BigInteger.Pow(10, IntegerDigits + FractionDigits) - 1;

    /// <summary>
    /// The integers in [<paramref name="min"/>, <paramref name="max"/>] (null = unbounded, i.e. the 16-digit limit)
    /// as GBNF alternatives, or null when no integer with at most 16 digits lies in the range. No "-0", no leading zeros.
    /// </summary>
    public static string? Integer(BigInteger? min, BigInteger? max)
    {
        var lo = BigInteger.Max(min ?? -IntegerLimit, -IntegerLimit);
        var hi = BigInteger.Min(max ?? IntegerLimit, IntegerLimit);
        if (lo > hi) return null;
        var alternatives = new List<string>();
        if (lo < 0) alternatives.Add($"\"-\" ({NonNegative(BigInteger.Max(BigInteger.One, -hi), -lo)})");
        if (hi >= 0) alternatives.Add(NonNegative(BigInteger.Max(BigInteger.Zero, lo), hi));
        return string.Join(" | ", alternatives);
    }

    /// <summary>
    /// The decimal numbers in [min, max], both given scaled by 10^<see cref="FractionDigits"/> (null = unbounded),
    /// as GBNF alternatives; null when the range is empty.
    /// </summary>
    public static string? Number(BigInteger? minScaled, BigInteger? maxScaled)
    {
        var lo = BigInteger.Max(minScaled ?? -NumberLimit, -NumberLimit);
        var hi = BigInteger.Min(maxScaled ?? NumberLimit, NumberLimit);
        if (lo > hi) return null;
        var alternatives = new List<string>();
        // Negative values: "-" and a magnitude of at least one unit in the last fraction digit ("-0" is not generated).
        if (lo < 0 && -lo >= 1) alternatives.Add($"\"-\" ({NonNegativeNumber(BigInteger.Max(BigInteger.One, -hi), -lo)})");
        if (hi >= 0) alternatives.Add(NonNegativeNumber(BigInteger.Max(BigInteger.Zero, lo), hi));
        return string.Join(" | ", alternatives);
    }

    /// <summary>
    /// A JSON number's value times 10^<paramref name="scale"/>, rounded up (<paramref name="ceiling"/>) or down to an
    /// integer, from its text: exact for any number JSON can write. Huge magnitudes are clamped far beyond every limit.
    /// </summary>
    public static BigInteger Scaled(JsonElement number, int scale, bool ceiling)
    {
        var text = number.GetRawText();
        int e = text.IndexOfAny(['e', 'E']);
        int exponent = 0;
        if (e >= 0)
        {
            // Exponents beyond ±10^6 are clamped: they are far outside every limit either way.
            var expText = text[(e + 1)..];
            if (!int.TryParse(expText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent))
                exponent = expText.StartsWith('-') ? -1_000_000 : 1_000_000;
            text = text[..e];
        }
        bool negative = text.StartsWith('-');
        if (negative) text = text[1..];
        int dot = text.IndexOf('.');
        if (dot >= 0)
        {
            exponent -= text.Length - dot - 1;
            text = text.Remove(dot, 1);
        }
        var mantissa = BigInteger.Parse(text, CultureInfo.InvariantCulture);
        int shift = Math.Clamp(exponent + scale, -100, 100);
        BigInteger value;
        if (shift >= 0)
        {
            value = mantissa * BigInteger.Pow(10, shift);
        }
        else
        {
            var divisor = BigInteger.Pow(10, -shift);
            value = BigInteger.DivRem(mantissa, divisor, out var remainder);
            // Round the magnitude so the signed result goes the requested way.
            if (!remainder.IsZero && ceiling != negative) value += 1;
        }
        return negative ? -value : value;
    }

    /// <summary>Non-negative integers in [lo, hi]: one alternative per digit count.</summary>
    private static string NonNegative(BigInteger lo, BigInteger hi)
    {
        var low = lo.ToString(CultureInfo.InvariantCulture);
        var high = hi.ToString(CultureInfo.InvariantCulture);
        var alternatives = new List<string>();
        for (int digits = low.Length; digits <= high.Length; digits++)
        {
            var from = digits == low.Length ? low : "1" + new string('0', digits - 1);
            var to = digits == high.Length ? high : new string('9', digits);
            alternatives.Add(SameLength(from, to));
        }
        return string.Join(" | ", alternatives);
    }

    /// <summary>Digit strings of one length between <paramref name="from"/> and <paramref name="to"/>: one sequence (grouped if needed).</summary>
    private static string SameLength(string from, string to)
    {
        int common = 0;
        while (common < from.Length && from[common] == to[common]) common++;
        var prefix = common > 0 ? $"\"{from[..common]}\"" : "";
        if (common == from.Length) return prefix;
        char a = from[common], b = to[common];
        var lowRest = from[(common + 1)..];
        var highRest = to[(common + 1)..];
        int rest = lowRest.Length;
        var alternatives = new List<string>();
        if (rest == 0)
        {
            alternatives.Add(DigitClass(a, b));
        }
        else
        {
            bool lowIsZeros = lowRest.All(c => c == '0');
            bool highIsNines = highRest.All(c => c == '9');
            if (!lowIsZeros) alternatives.Add($"[{a}] {SameLength(lowRest, new string('9', rest))}");
            char start = lowIsZeros ? a : (char)(a + 1);
            char end = highIsNines ? b : (char)(b - 1);
            if (start <= end) alternatives.Add($"{DigitClass(start, end)} {AnyDigits(rest, rest)}");
            if (!highIsNines) alternatives.Add($"[{b}] {SameLength(new string('0', rest), highRest)}");
        }
        var body = alternatives.Count == 1 ? alternatives[0] : $"({string.Join(" | ", alternatives)})";
        return prefix.Length == 0 ? body : $"{prefix} {body}";
    }

    /// <summary>Non-negative numbers in [lo, hi] (scaled): integer part, then the fraction it allows.</summary>
    private static string NonNegativeNumber(BigInteger lo, BigInteger hi)
    {
        var loInt = BigInteger.DivRem(lo, FractionScale, out var loFrac);
        var hiInt = BigInteger.DivRem(hi, FractionScale, out var hiFrac);
        var low = FractionText(loFrac);
        var high = FractionText(hiFrac);
        if (loInt == hiInt) return Sequence(IntegerLiteral(loInt), Fraction(low, high));
        var alternatives = new List<string>();
        // Integer parts strictly inside take any fraction; the low one (unless its fraction bound is 0) and the high
        // one are limited by the bounds' fractions.
        var firstFree = low.Length == 0 ? loInt : loInt + 1;
        if (low.Length > 0) alternatives.Add(Sequence(IntegerLiteral(loInt), Fraction(low, null)));
        if (firstFree <= hiInt - 1) alternatives.Add(Sequence(Group(NonNegative(firstFree, hiInt - 1)), Fraction("", null)));
        alternatives.Add(Sequence(IntegerLiteral(hiInt), Fraction("", high)));
        return string.Join(" | ", alternatives);
    }

    /// <summary>The fraction digits of a scaled remainder, without trailing zeros ("" for none).</summary>
    private static string FractionText(BigInteger remainder) =>
        remainder.IsZero ? "" : remainder.ToString(CultureInfo.InvariantCulture).PadLeft(FractionDigits, '0').TrimEnd('0');

    /// <summary>
    /// An optional ".digits" whose value 0.digits lies in [0.<paramref name="low"/>, 0.<paramref name="high"/>]
    /// (high null: below 1). The fraction may be left out only when 0 is allowed.
    /// </summary>
    private static string Fraction(string low, string? high)
    {
        var digits = FractionDigitsIn(low, high, FractionDigits);
        return low.Length == 0 ? $"(\".\" {digits})?" : $"\".\" {digits}";
    }

    /// <summary>1..<paramref name="length"/> digits d with 0.low ≤ 0.d ≤ 0.high (high null: unbounded); low and high have no trailing zeros.</summary>
    private static string FractionDigitsIn(string low, string? high, int length)
    {
        if (high is null && low.Length == 0) return AnyDigits(1, length);
        if (high is { Length: 0 }) return ZeroDigits(1, length);
        char a = low.Length > 0 ? low[0] : '0';
        char b = high is null ? '9' : high[0];
        var lowRest = low.Length > 0 ? low[1..] : "";
        var highRest = high?[1..];
        if (a == b) return Sequence($"[{a}]", RestIn(lowRest, highRest, length - 1));
        var alternatives = new List<string>();
        bool lowFree = lowRest.Length == 0;
        bool highFree = high is null;
        if (!lowFree) alternatives.Add(Sequence($"[{a}]", RestIn(lowRest, null, length - 1)));
        char start = lowFree ? a : (char)(a + 1);
        char end = highFree ? b : (char)(b - 1);
        if (start <= end) alternatives.Add(Sequence(DigitClass(start, end), AnyDigits(0, length - 1)));
        if (!highFree) alternatives.Add(Sequence($"[{b}]", RestIn("", highRest, length - 1)));
        return alternatives.Count == 1 ? alternatives[0] : $"({string.Join(" | ", alternatives)})";
    }

    /// <summary>0..length digits within the bounds (empty only when the low bound is 0).</summary>
    private static string RestIn(string low, string? high, int length)
    {
        if (length == 0) return "";
        if (high is { Length: 0 }) return ZeroDigits(0, length);
        var digits = FractionDigitsIn(low, high, length);
        return low.Length == 0 ? Group(digits) + "?" : digits;
    }

    private static string IntegerLiteral(BigInteger value) => $"\"{value.ToString(CultureInfo.InvariantCulture)}\"";

    private static string DigitClass(char from, char to) => from == to ? $"[{from}]" : $"[{from}-{to}]";

    private static string AnyDigits(int min, int max) => Repeat("[0-9]", min, max);

    private static string ZeroDigits(int min, int max) => Repeat("[0]", min, max);

    private static string Repeat(string item, int min, int max) => (min, max) switch
    {
        (_, 0) => "",
        (1, 1) => item,
        (0, 1) => item + "?",
        _ when min == max => $"{item}{{{min}}}",
        _ => $"{item}{{{min},{max}}}",
    };

    private static string Group(string alternatives) =>
        alternatives.Contains(' ', StringComparison.Ordinal) ? $"({alternatives})" : alternatives;

    private static string Sequence(params string[] parts)
    {
        var sb = new StringBuilder();
        foreach (var part in parts.Where(p => p.Length > 0))
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(part);
        }
        return sb.ToString();
    }
}
