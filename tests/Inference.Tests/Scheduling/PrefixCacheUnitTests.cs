using Inference.Engine.Scheduling;
using LLama.Native;

namespace Inference.Tests.Scheduling;

public sealed class PrefixCacheUnitTests
{
    private static LLamaToken[] T(params int[] ids) => ids.Select(i => (LLamaToken)i).ToArray();

    [Fact]
    public void Finds_the_longest_common_prefix_and_evicts_least_recently_used()
    {
        var cache = new PrefixCache(maxEntries: 3);
        cache.Add((LLamaSeqId)4, T(1, 2, 3, 4));
        cache.Add((LLamaSeqId)5, T(1, 2, 9));
        var (entry, n) = cache.FindLongestPrefix(T(1, 2, 3, 7));
        Assert.Equal(3, n);
        Assert.Equal((LLamaSeqId)4, entry!.SeqId);
        // Entry 4 was just used, so 5 is the least recently used.
        Assert.Equal((LLamaSeqId)5, cache.EvictLeastRecentlyUsed()!.SeqId);
        Assert.Equal((0, (PrefixCache.Entry?)null), (cache.FindLongestPrefix(T(8)).Length, cache.FindLongestPrefix(T(8)).Entry));
    }

    [Fact]
    public void A_longer_conversation_replaces_the_turn_it_extends()
    {
        var cache = new PrefixCache(maxEntries: 4);
        cache.Add((LLamaSeqId)1, T(1, 2, 3));
        var redundant = cache.Add((LLamaSeqId)2, T(1, 2, 3, 4, 5));
        Assert.Equal((LLamaSeqId)1, Assert.Single(redundant).SeqId);
        Assert.Equal(1, cache.Count);
        Assert.Equal(5, cache.TotalTokens);
    }
}
