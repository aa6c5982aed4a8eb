using System.Globalization;
using System.Numerics;

namespace Inference.Engine.Gguf;

/// <summary>Names as Ollama displays them.</summary>
public static class GgufNames
{
    // llama.cpp's llama_ftype values (LLAMA_FTYPE_MOSTLY_*) with the names Ollama shows as
    // "quantization_level". Gaps (4-6, 33-35) are retired formats.
    private static readonly Dictionary<long, string> FileTypes = new()
    {
        [0] = "F32",
        [1] = "F16",
        [2] = "Q4_0",
        [3] = "Q4_1",
        [7] = "Q8_0",
        [8] = "Q5_0",
        [9] = "Q5_1",
        [10] = "Q2_K",
        [11] = "Q3_K_S",
        [12] = "Q3_K_M",
        [13] = "Q3_K_L",
        [14] = "Q4_K_S",
        [15] = "Q4_K_M",
        [16] = "Q5_K_S",
        [17] = "Q5_K_M",
        [18] = "Q6_K",
        [19] = "IQ2_XXS",
        [20] = "IQ2_XS",
        [21] = "Q2_K_S",
        [22] = "IQ3_XS",
        [23] = "IQ3_XXS",
        [24] = "IQ1_S",
        [25] = "IQ4_NL",
        [26] = "IQ3_S",
        [27] = "IQ3_M",
        [28] = "IQ2_S",
        [29] = "IQ2_M",
        [30] = "IQ4_XS",
        [31] = "IQ1_M",
        [32] = "BF16",
        [36] = "TQ1_0",
        [37] = "TQ2_0",
    };

    /// <summary>Ollama's name for a <c>general.file_type</c> value, or "unknown".</summary>
    public static string FileTypeName(long? fileType) =>
        fileType is { } t && FileTypes.TryGetValue(t, out var name) ? name : "unknown";

    /// <summary>
    /// The model's quantization: general.file_type when present; otherwise (older converters, e.g.
    /// stories260K) the type that holds most of the weight matrices' elements.
    /// </summary>
    public static string QuantizationLevel(GgufFile gguf)
    {
        if (gguf.FileType is not null) return FileTypeName(gguf.FileType);
        var dominant = gguf.Tensors
            .Where(t => t.Dimensions.Length >= 2)
            .GroupBy(t => t.Type)
            .OrderByDescending(g => g.Sum(t => t.ElementCount))
            .FirstOrDefault();
        return dominant is null ? "unknown" : GgmlTypes.Name(dominant.Key);
    }

    /// <summary>
    /// Formats a parameter count exactly like Ollama's <c>format.HumanNumber</c>: B with one decimal,
    /// M with two decimals, dropping the decimals when the value is whole; K rounded to an integer;
    /// plain digits below 1000. E.g. 8030261248 → "8.0B", 1000000000 → "1B", 500500000 → "500.50M",
    /// 292800 → "293K".
    /// </summary>
    public static string FormatParameterSize(long count)
    {
        const double Thousand = 1_000, Million = 1_000_000, Billion = 1_000_000_000;
        if (count >= Billion)
        {
            double n = count / Billion;
            return FormatGo(n, n == Math.Floor(n) ? 0 : 1) + "B";
        }
        if (count >= Million)
        {
            double n = count / Million;
            return FormatGo(n, n == Math.Floor(n) ? 0 : 2) + "M";
        }
        if (count >= Thousand)
        {
            return FormatGo(count / Thousand, 0) + "K";
        }
        return count.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Go's <c>fmt.Sprintf("%.Nf", value)</c> for a non-negative finite double: the exact binary value
    /// rounded half-to-even. .NET's "F" format rounds exact ties away from zero (2.5 → "3" where Go
    /// prints "2"), so the rounding is done here on the exact value.
    /// </summary>
    private static string FormatGo(double value, int decimals)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        int exponent = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xFFFFFFFFFFFFFL;
        BigInteger mantissa = exponent == 0 ? fraction : fraction | (1L << 52);
        int shift = (exponent == 0 ? 1 : exponent) - 1075; // value = mantissa * 2^shift
        BigInteger scaled = mantissa * BigInteger.Pow(10, decimals);
        BigInteger digits;
        if (shift >= 0)
        {
            digits = scaled << shift;
        }
        else
        {
            BigInteger denominator = BigInteger.One << -shift;
            digits = BigInteger.DivRem(scaled, denominator, out BigInteger remainder);
            int cmp = (remainder * 2).CompareTo(denominator);
            if (cmp > 0 || (cmp == 0 && !digits.IsEven))
            {
                digits += 1;
            }
        }
        string text = digits.ToString(CultureInfo.InvariantCulture).PadLeft(decimals + 1, '0');
        return decimals == 0 ? text : text[..^decimals] + "." + text[^decimals..];
    }
}
