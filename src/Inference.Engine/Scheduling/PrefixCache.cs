using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// KV cells kept after a sequence finishes, so a later prompt that starts the same way (a chat
/// follow-up, a shared system prompt or schema block) reuses them instead of evaluating them again.
/// Each entry's cells stay in the finished sequence's own id (KV stream). Only bookkeeping lives here;
/// the runner takes over, copies and removes the cells themselves.
/// </summary>
internal sealed class PrefixCache(int maxEntries)
{
    private readonly List<Entry> _entries = [];
    private long _clock;

    /// <summary>A sequence id whose KV cells hold exactly <see cref="Tokens"/> at positions 0..n-1.</summary>
    internal sealed class Entry(LLamaSeqId seqId, LLamaToken[] tokens)
    {
        public LLamaSeqId SeqId { get; } = seqId;
        public LLamaToken[] Tokens { get; } = tokens;
        public long LastUsed { get; set; }
    }

    public int Count => _entries.Count;
    public int MaxEntries { get; } = maxEntries;
    public long TotalTokens => _entries.Sum(e => (long)e.Tokens.Length);

    /// <summary>The entry sharing the longest token prefix with the prompt, and that length.</summary>
    public (Entry? Entry, int Length) FindLongestPrefix(ReadOnlySpan<LLamaToken> prompt)
    {
        Entry? best = null;
        int bestLength = 0;
        foreach (var entry in _entries)
        {
            int n = CommonPrefix(entry.Tokens, prompt);
            if (n > bestLength)
            {
                best = entry;
                bestLength = n;
            }
        }
        if (best is not null) best.LastUsed = ++_clock;
        return (best, bestLength);
    }

    /// <summary>
    /// Adds a finished sequence. Returns the entries it makes redundant (their tokens are a prefix
    /// of the new one, e.g. the previous turn of the same chat): the caller frees their cells.
    /// </summary>
    public List<Entry> Add(LLamaSeqId seqId, LLamaToken[] tokens)
    {
        var redundant = _entries.Where(e => e.Tokens.Length <= tokens.Length && CommonPrefix(e.Tokens, tokens) == e.Tokens.Length).ToList();
        foreach (var e in redundant) _entries.Remove(e);
        _entries.Add(new Entry(seqId, tokens) { LastUsed = ++_clock });
        return redundant;
    }

    /// <summary>The entry whose cells are in this sequence id, or null.</summary>
    public Entry? At(LLamaSeqId seqId) => _entries.Find(e => e.SeqId == seqId);

    /// <summary>Forgets an entry (its sequence id is taken over or freed by the caller).</summary>
    public void Remove(Entry entry) => _entries.Remove(entry);

    /// <summary>Removes and returns the least recently used entry, or null when empty.</summary>
    public Entry? EvictLeastRecentlyUsed()
    {
        if (_entries.Count == 0) return null;
        var lru = _entries.MinBy(e => e.LastUsed)!;
        _entries.Remove(lru);
        return lru;
    }

    public static int CommonPrefix(ReadOnlySpan<LLamaToken> a, ReadOnlySpan<LLamaToken> b)
    {
        int n = Math.Min(a.Length, b.Length), i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }
}
