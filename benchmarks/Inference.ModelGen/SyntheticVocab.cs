using System.Reflection;

namespace Inference.ModelGen;

/// <summary>
/// A synthetic SentencePiece ("llama") vocabulary that tokenizes English sensibly.
/// llama.cpp's SPM tokenizer starts from single characters and repeatedly merges adjacent pieces whose
/// concatenation is in the vocabulary, so every word piece "▁word" is added together with all its
/// prefixes ("▁w", "▁wo", ...): that gives each known word a merge path down to one token.
/// Unknown characters fall back to the 256 byte tokens.
/// </summary>
public sealed class SyntheticVocab
{
    public const int Unk = 0, Bos = 1, Eos = 2;
    public const char Space = '\u2581'; // "▁", SentencePiece's word-boundary marker

    // llama.cpp token types.
    private const int Normal = 1, Unknown = 2, Control = 3, Byte = 6;

    public required string[] Tokens { get; init; }
    public required float[] Scores { get; init; }
    public required int[] TokenTypes { get; init; }

    public static SyntheticVocab Create(int size)
    {
        var tokens = new List<string>(size);
        var types = new List<int>(size);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool Add(string t, int type)
        {
            if (tokens.Count >= size || !seen.Add(t)) return false;
            tokens.Add(t);
            types.Add(type);
            return true;
        }

        Add("<unk>", Unknown);
        Add("<s>", Control);
        Add("</s>", Control);
        for (var b = 0; b < 256; b++) Add($"<0x{b:X2}>", Byte);

        // Single characters (merge starting points) and the same with a word-boundary marker.
        const string chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"-()[]{}<>/\\_=+*&%$#@";
        Add(Space.ToString(), Normal);
        foreach (var c in chars) Add(c.ToString(), Normal);
        foreach (var c in chars) Add($"{Space}{c}", Normal);

        // Words by frequency, then simple variants; a word's prefixes always go in with it.
        var words = LoadWords();
        foreach (var variant in new Func<string, string>[] { w => w, Capitalize, w => w + "s", w => Capitalize(w) + "s" })
        {
            foreach (var w in words)
            {
                var piece = Space + variant(w);
                if (tokens.Count + piece.Length > size) break; // keep merge paths complete
                for (var len = 2; len <= piece.Length; len++) Add(piece[..len], Normal);
            }
        }

        // Fill the rest with unique pieces that can never be produced by merges (no prefix path),
        // so they only appear when the model samples them.
        for (var i = 0; tokens.Count < size; i++) Add($"[syn{i}]", Normal);

        // Higher score = preferred merge; earlier (more frequent) pieces win ties between paths.
        var scores = new float[tokens.Count];
        for (var i = 0; i < scores.Length; i++) scores[i] = types[i] == Normal ? -i : 0f;
        return new SyntheticVocab { Tokens = [.. tokens], Scores = scores, TokenTypes = [.. types] };
    }

    private static string Capitalize(string w) => char.ToUpperInvariant(w[0]) + w[1..];

    private static List<string> LoadWords()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("english-words.txt")
            ?? throw new InvalidOperationException("embedded word list missing");
        using var r = new StreamReader(s);
        return r.ReadToEnd().Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Distinct(StringComparer.Ordinal).ToList();
    }
}
