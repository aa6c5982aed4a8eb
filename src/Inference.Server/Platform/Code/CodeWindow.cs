namespace Inference.Server.Platform.Code;

/// <summary>
/// Fits the code around the cursor into the prompt's token budget, keeping what is nearest the
/// cursor (as editors' completion engines do): the end of the text before it gets most of the
/// budget, the start of the text after it the rest. Cuts fall on line starts where possible, never
/// inside a surrogate pair, and the prefix the model continues is never cut at its end.
/// </summary>
public static class CodeWindow
{
    /// <summary>Share of the budget the text after the cursor gets when both sides are too long.</summary>
    public const double AfterShare = 0.25;

    /// <summary>Characters per token assumed when the caller knows no bound for its tokenizer (a cap to bound tokenizing work).</summary>
    public const int MaxCharsPerToken = 32;

    /// <param name="maxBytesPerToken">
    /// The most text one token can cover (see Inference.Engine.Generation.TokenizerBound): text farther
    /// from the cursor than budget × this can never be in the window, so it is dropped before tokenizing.
    /// </param>
    public static (string Before, string After) Fit(string before, string after, int budget, Func<string, int> countTokens,
        int maxBytesPerToken = MaxCharsPerToken)
    {
        // Text beyond what could ever fit is dropped before tokenizing (a large file costs no more than the window).
        // UTF-16 units never outnumber UTF-8 bytes, so a cut in characters at the byte bound keeps all that could fit.
        long cap = (long)Math.Max(budget, 0) * maxBytesPerToken;
        // (A cut through a surrogate pair would leave half of it at the edge: that half goes too.)
        if (before.Length > cap) before = before[^(int)cap..] is var b && b.Length > 0 && char.IsLowSurrogate(b[0]) ? b[1..] : b;
        if (after.Length > cap) after = after[..(int)cap] is var a && a.Length > 0 && char.IsHighSurrogate(a[^1]) ? a[..^1] : a;
        int beforeTokens = countTokens(before), afterTokens = countTokens(after);
        if (beforeTokens + afterTokens <= budget) return (before, after);

        int afterBudget = Math.Min(afterTokens, (int)(budget * AfterShare));
        int beforeBudget = budget - afterBudget;
        if (beforeTokens < beforeBudget)
        {
            beforeBudget = beforeTokens;
            afterBudget = budget - beforeTokens;
        }
        return (KeepEnd(before, beforeBudget, countTokens), KeepStart(after, afterBudget, countTokens));
    }

    /// <summary>The longest end of <paramref name="text"/> within <paramref name="budget"/> tokens, from a line start when one is inside it.</summary>
    private static string KeepEnd(string text, int budget, Func<string, int> countTokens)
    {
        if (budget <= 0) return "";
        // Token counts shrink as the start moves right: find the leftmost start that fits.
        int lo = 0, hi = text.Length;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            if (countTokens(text[mid..]) <= budget) hi = mid; else lo = mid + 1;
        }
        int start = lo > 0 && lo < text.Length && char.IsLowSurrogate(text[lo]) ? lo + 1 : lo;
        // Start at a whole line, unless that would give up more than half of what fits.
        int line = start > 0 ? text.IndexOf('\n', start) : -1;
        if (line >= 0 && line + 1 < text.Length && line - start < (text.Length - start) / 2) start = line + 1;
        return text[start..];
    }

    /// <summary>The longest start of <paramref name="text"/> within <paramref name="budget"/> tokens, up to a line end when one is inside it.</summary>
    private static string KeepStart(string text, int budget, Func<string, int> countTokens)
    {
        if (budget <= 0) return "";
        int lo = 0, hi = text.Length;
        while (lo < hi)
        {
            int mid = lo + (hi - lo + 1) / 2;
            if (countTokens(text[..mid]) <= budget) lo = mid; else hi = mid - 1;
        }
        int end = lo > 0 && lo < text.Length && char.IsLowSurrogate(text[lo]) ? lo - 1 : lo;
        // End after a whole line, unless that would give up more than half of what fits.
        int line = end > 0 && end < text.Length ? text.LastIndexOf('\n', end - 1) : -1;
        if (line >= 0 && end - (line + 1) < end / 2) end = line + 1;
        return text[..end];
    }
}
