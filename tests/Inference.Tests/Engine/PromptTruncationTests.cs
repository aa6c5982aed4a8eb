using Inference.Engine.Generation;
using LLama.Native;

namespace Inference.Tests.Engine;

/// <summary>The arithmetic of Ollama's truncation, against the values Ollama's contextShiftPromptLimit gives.</summary>
public sealed class PromptTruncationTests
{
    [Theory]
    [InlineData(128, 5, 67)]
    [InlineData(2048, 5, 1027)]
    [InlineData(64, 5, 35)]
    [InlineData(16, 15, 15)]
    [InlineData(128, 0, 64)]
    public void The_limit_leaves_about_half_the_context_after_the_kept_start(int ctx, int keep, int limit) =>
        Assert.Equal(limit, PromptTruncation.Limit(ctx, keep));

    [Theory]
    [InlineData(null, 100, true, 2048, 5)]
    [InlineData(null, 100, false, 2048, 4)]
    [InlineData(20, 100, true, 2048, 21)]
    [InlineData(-1, 100, true, 2048, 100)]
    [InlineData(-1, 5000, true, 2048, 2047)]
    [InlineData(4000, 100, true, 128, 127)]
    public void Keep_is_num_keep_plus_bos_within_the_context(int? numKeep, int promptLength, bool bos, int ctx, int keep) =>
        Assert.Equal(keep, PromptTruncation.KeepTokens(numKeep, promptLength, bos, ctx));

    [Theory]
    [InlineData(127, 5, 61)]
    [InlineData(47, 5, 21)]
    [InlineData(7, 5, 1)]
    [InlineData(6, 5, 0)]
    [InlineData(5, 5, 0)]
    [InlineData(3, 5, 0)]
    public void A_shift_discards_half_of_what_follows_the_kept_start(int length, int keep, int discard) =>
        Assert.Equal(discard, Inference.Engine.Scheduling.ContextShift.Discard(length, keep));

    private static LLamaToken[] Tokens(params int[] ids) => ids.Select(i => (LLamaToken)i).ToArray();

    [Fact]
    public void Cut_keeps_the_start_and_the_end()
    {
        var cut = PromptTruncation.Cut(Tokens(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), keep: 2, limit: 5);
        Assert.Equal(Tokens(1, 2, 8, 9, 10), cut);
        Assert.Equal(Tokens(1, 2, 3), PromptTruncation.Cut(Tokens(1, 2, 3), keep: 2, limit: 5));
    }

    [Fact]
    public void A_long_text_is_tokenized_only_at_its_ends()
    {
        // One token per character (and a BOS of 0 at the start), one byte per token.
        var tokenized = new List<string>();
        LLamaToken[] Tokenize(string text, bool first)
        {
            tokenized.Add(text);
            return [.. (first ? [(LLamaToken)0] : Array.Empty<LLamaToken>()), .. text.Select(c => (LLamaToken)c)];
        }
        var text = "ab" + new string('x', 1000) + "vwxyz";
        var (tokens, dropped) = PromptTruncation.CutLongText(text, new TokenizerBound(1, true), keep: 2, limit: 5, Tokenize);
        Assert.Equal(Tokens(0, 'a', 'x', 'y', 'z'), tokens);
        Assert.Equal(["ab", "vwxyz"], tokenized);
        // One head token, two tail tokens, and the 1000 untokenized bytes of the middle.
        Assert.Equal(1 + 2 + 1000, dropped);
    }
}
