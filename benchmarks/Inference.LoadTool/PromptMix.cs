using System.Text;

namespace Inference.LoadTool;

/// <summary>
/// Deterministic prompt generator. Prompts are built from common English words so that one word is
/// roughly one token for most tokenizers. A fixed share of requests starts with the same prefix
/// (exercising prefix/KV caching); the others start with a per-request prefix so they cannot share it.
/// </summary>
public sealed class PromptMix
{
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
        "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
        "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more",
        "when", "will", "would", "who", "so", "no", "time", "people", "water", "house", "world", "city",
        "river", "small", "large", "story", "light", "night", "day", "year", "work", "school", "book",
        "music", "garden", "table", "window", "door", "road", "tree", "green", "blue", "red", "cold",
        "warm", "old", "new", "good", "long", "great", "little", "own", "other", "right", "big", "high",
        "different", "place", "same", "last", "next", "early", "young", "important", "few", "public",
        "bad", "able", "cat", "dog", "bird", "fish", "horse", "sun", "moon", "star", "rain", "wind",
    ];

    private readonly int _seed;
    private readonly int _promptTokens;
    private readonly int _prefixTokens;
    private readonly double _share;
    private readonly string[] _sharedPrefix;

    public PromptMix(int seed, int promptTokens, int sharedPrefixTokens, double sharedPrefixShare)
    {
        if (promptTokens < 1) throw new ArgumentOutOfRangeException(nameof(promptTokens));
        if (sharedPrefixShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(sharedPrefixShare));
        _seed = seed;
        _promptTokens = promptTokens;
        _prefixTokens = Math.Min(Math.Max(sharedPrefixTokens, 0), promptTokens);
        _share = _prefixTokens == 0 ? 0 : sharedPrefixShare;
        _sharedPrefix = RandomWords(new Random(seed), _prefixTokens);
    }

    public IReadOnlyList<string> SharedPrefixWords => _sharedPrefix;

    /// <summary>
    /// Whether request <paramref name="index"/> uses the shared prefix. Spread evenly (Bresenham-style)
    /// rather than drawn at random so that any window of requests has the requested share exactly (±1).
    /// </summary>
    public bool UsesSharedPrefix(int index) =>
        _share > 0 && Math.Floor((index + 1) * _share) > Math.Floor(index * _share);

    /// <summary>The prompt for request <paramref name="index"/>; same inputs always give the same text.</summary>
    public string Build(int index)
    {
        // A per-request RNG keeps prompts independent of the order in which clients pick requests.
        var rng = new Random(HashCode.Combine(_seed, index, 0x5EED));
        var sb = new StringBuilder(_promptTokens * 7);
        var rest = _promptTokens;
        if (UsesSharedPrefix(index))
        {
            Append(sb, _sharedPrefix);
            rest -= _sharedPrefix.Length;
        }
        else
        {
            // Lead with a word picked by the request number, then the number, so unique prompts diverge from the first
            // token onwards: "request 1000:" and "request 1001:" alone share "request 100" in a BPE vocabulary, which a
            // server that reuses any common prefix (llama-server's slots) skips evaluating in a "cold" prompt.
            sb.Append(Words[(index % Words.Length + Words.Length) % Words.Length]).Append(" request ").Append(index).Append(':');
            rest -= 3;
        }
        Append(sb, RandomWords(rng, Math.Max(rest, 0)));
        return sb.ToString();
    }

    private static string[] RandomWords(Random rng, int count)
    {
        var words = new string[count];
        for (var i = 0; i < count; i++) words[i] = Words[rng.Next(Words.Length)];
        return words;
    }

    private static void Append(StringBuilder sb, IEnumerable<string> words)
    {
        foreach (var w in words)
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(w);
        }
    }
}
