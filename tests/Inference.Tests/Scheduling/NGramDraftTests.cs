using Inference.Engine.Backend;
using Inference.Engine.Scheduling;
using LLama.Native;

namespace Inference.Tests.Scheduling;

/// <summary>The prompt-lookup draft by itself: which tail it matches, which occurrence, how much it proposes.</summary>
public sealed class NGramDraftTests
{
    private static LLamaToken[] T(params int[] ids) => ids.Select(i => (LLamaToken)i).ToArray();

    private static int[] Propose(int[] history, int max)
    {
        var draft = new LLamaToken[max];
        int n = NGramDraft.Propose(T(history), draft);
        return draft.Take(n).Select(t => (int)t).ToArray();
    }

    [Fact]
    public void The_tokens_after_the_longest_matching_tail_are_proposed()
    {
        // Tail (7, 8, 9) occurred once, followed by 10, 11; the one-token tail 9 also occurred later, followed by 4.
        Assert.Equal([10, 11, 9, 4], Propose([7, 8, 9, 10, 11, 9, 4, 1, 7, 8, 9], 4));
    }

    [Fact]
    public void The_most_recent_occurrence_wins_and_past_the_history_end_the_draft_repeats_with_its_period()
    {
        // (1, 2) last occurred before 6, 7, then the tail itself: the guess repeats 6, 7, 1, 2.
        Assert.Equal([6, 7, 1, 2, 6, 7, 1, 2], Propose([1, 2, 5, 1, 2, 6, 7, 1, 2], 8));
    }

    [Fact]
    public void A_shorter_tail_is_used_when_no_longer_one_occurred()
    {
        // No (x, 3) pair repeats; the single token 3 did, followed by 4, 5.
        Assert.Equal([4, 5], Propose([3, 4, 5, 2, 3], 2));
        Assert.Equal([4, 5, 2, 3, 4, 5], Propose([3, 4, 5, 2, 3], 6));
    }

    [Fact]
    public void Nothing_is_proposed_without_a_repeat_or_without_room()
    {
        Assert.Empty(Propose([1, 2, 3, 4], 8));
        Assert.Empty(Propose([1], 8));
        Assert.Empty(Propose([1, 2, 1], 0));
        // The tail's own occurrence at the end never matches itself.
        Assert.Empty(Propose([5, 6, 7], 3));
    }

    [Fact]
    public void A_repeating_token_drafts_its_own_continuation()
    {
        Assert.Equal([9, 9, 9], Propose([9, 9, 9, 9], 3));
    }

    [Theory]
    [InlineData("off", 8, 0)]
    [InlineData("ngram", 8, 8)]
    [InlineData(" NGram ", 3, 3)]
    public void The_settings_give_the_runner_its_draft_length(string mode, int max, int expected) =>
        Assert.Equal(expected, new EngineOptions { SpeculativeDraft = mode, SpeculativeMaxTokens = max }.DraftTokens);

    [Fact]
    public void An_unknown_mode_is_refused_naming_the_setting()
    {
        var options = new EngineOptions { SpeculativeDraft = "eagle" };
        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();
        Assert.Equal(["Inference:SpeculativeDraft must be off or ngram, got 'eagle'"], errors);
    }
}
