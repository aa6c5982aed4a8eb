using System.Runtime.InteropServices;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// Prompt-lookup drafting: guesses the next tokens of a sequence from its own history (prompt and output so far).
/// The longest tail of the history (<see cref="LongestNGram"/> tokens down to <see cref="ShortestNGram"/>) that
/// occurred before is looked up, its most recent earlier occurrence first, and the tokens that followed it are the
/// draft. SQL answers repeat the schema's names from the prompt and code repeats its identifiers, so such drafts are
/// often right; a wrong draft costs only the extra rows of one decode (the model verifies every draft token).
/// </summary>
internal static class NGramDraft
{
    /// <summary>The longest tail looked up (a longer match predicts better, and is found first).</summary>
    public const int LongestNGram = 3;
    /// <summary>The shortest tail looked up.</summary>
    public const int ShortestNGram = 1;

    /// <summary>
    /// Fills <paramref name="draft"/> with the tokens that followed the most recent earlier occurrence of the history's
    /// longest matching tail; returns how many (its length, or 0 when no tail of the history occurred before).
    /// </summary>
    public static int Propose(ReadOnlySpan<LLamaToken> history, Span<LLamaToken> draft)
    {
        if (draft.IsEmpty || history.Length < 2) return 0;
        // LLamaToken is one int: searching ints is vectorized.
        var ids = MemoryMarshal.Cast<LLamaToken, int>(history);
        for (int n = Math.Min(LongestNGram, ids.Length - 1); n >= ShortestNGram; n--)
        {
            var tail = ids[^n..];
            // An occurrence that ends before the last token, so that at least one token follows it.
            int at = ids[..^1].LastIndexOf(tail);
            if (at < 0) continue;
            // Token j after the history is guessed as token j after the match. Past the history's end that is a
            // guessed token itself: a repeating stretch of output continues with the same period.
            int from = at + n;
            for (int j = 0; j < draft.Length; j++)
                draft[j] = from + j < history.Length ? history[from + j] : draft[from + j - history.Length];
            return draft.Length;
        }
        return 0;
    }
}
