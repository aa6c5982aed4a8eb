using LLama.Native;

namespace Inference.Engine.Generation;

/// <summary>
/// Ollama's truncate (the default): a prompt longer than the context keeps its first tokens (num_keep, plus
/// BOS) and its most recent ones, and drops the oldest in between, so that about half of the context is
/// left to generate in (Ollama's contextShiftPromptLimit: num_ctx − max((num_ctx − keep) / 2, 1) tokens).
/// Chat requests first drop whole old turns (<see cref="GenerationService"/>); this cuts what is still too long.
/// </summary>
public static class PromptTruncation
{
    /// <summary>Ollama's default num_keep ("a minimal num_keep to avoid issues on context shifts").</summary>
    public const int DefaultNumKeep = 4;

    /// <summary>
    /// Tokens kept at the start of a prompt of <paramref name="promptLength"/> tokens, through truncation and
    /// context shifts: num_keep (default 4; -1 = the whole prompt), one more for a BOS token, at most the context − 1.
    /// </summary>
    public static int KeepTokens(int? numKeep, int promptLength, bool addsBos, int contextLength)
    {
        int keep = (numKeep ?? DefaultNumKeep) < 0 ? promptLength : (numKeep ?? DefaultNumKeep) + (addsBos ? 1 : 0);
        return Math.Clamp(keep, 0, Math.Max(contextLength - 1, 0));
    }

    /// <summary>How many tokens a truncated prompt keeps (Ollama's contextShiftPromptLimit).</summary>
    public static int Limit(int contextLength, int keep) =>
        contextLength <= 1 ? 0 : contextLength - Math.Max((contextLength - Math.Clamp(keep, 0, contextLength - 1)) / 2, 1);

    /// <summary>The first <paramref name="keep"/> tokens and the last ones, <paramref name="limit"/> in all.</summary>
    public static LLamaToken[] Cut(ReadOnlySpan<LLamaToken> tokens, int keep, int limit)
    {
        if (tokens.Length <= limit) return tokens.ToArray();
        keep = Math.Min(keep, limit);
        var cut = new LLamaToken[limit];
        tokens[..keep].CopyTo(cut);
        tokens[(tokens.Length - (limit - keep))..].CopyTo(cut.AsSpan(keep));
        return cut;
    }

    /// <summary>
    /// Tokenizes a text too long to tokenize whole (it cannot fit the context by its length alone, see
    /// <see cref="TokenizerBound"/>): only its start and its end, each long enough to give the tokens kept
    /// from it, so the cost does not grow with the text. Returns the kept tokens and a lower bound of the
    /// tokens dropped (those tokenized and dropped, plus what the untokenized middle must at least hold).
    /// </summary>
    public static (LLamaToken[] Tokens, long Dropped) CutLongText(string text, TokenizerBound bound, int keep, int limit,
        Func<string, bool, LLamaToken[]> tokenize)
    {
        // Each token spells at most BytesPerToken bytes, and a character is at least one byte: these many
        // characters give at least as many tokens as are kept from each end.
        int headChars = AtCharBoundary(text, (int)Math.Min(bound.MaxBytes(keep), text.Length));
        int tailStart = AtCharBoundary(text, (int)Math.Max(text.Length - bound.MaxBytes(limit), headChars));
        var head = tokenize(text[..headChars], true);
        var tail = tokenize(text[tailStart..], false);
        int fromHead = Math.Min(keep, head.Length);
        int fromTail = Math.Min(limit - fromHead, tail.Length);
        var tokens = new LLamaToken[fromHead + fromTail];
        head.AsSpan(0, fromHead).CopyTo(tokens);
        tail.AsSpan(tail.Length - fromTail).CopyTo(tokens.AsSpan(fromHead));
        long middleBytes = System.Text.Encoding.UTF8.GetByteCount(text.AsSpan(headChars, tailStart - headChars));
        long dropped = head.Length - fromHead + tail.Length - fromTail + middleBytes / bound.BytesPerToken;
        return (tokens, dropped);
    }

    /// <summary>An index moved forward off the middle of a surrogate pair.</summary>
    private static int AtCharBoundary(string text, int index) =>
        index > 0 && index < text.Length && char.IsLowSurrogate(text[index]) ? index + 1 : index;
}
