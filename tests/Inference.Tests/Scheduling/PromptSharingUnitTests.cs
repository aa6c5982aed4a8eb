using Inference.Engine.Scheduling;

namespace Inference.Tests.Scheduling;

public sealed class PromptSharingUnitTests
{
    [Theory]
    [InlineData(100, 0, 99, true)]    // identical prompt still being evaluated: wait and fork it
    [InlineData(5, 0, 4, true)]       // identical short prompt: n samples still cost one prefill
    [InlineData(100, 0, 15, false)]   // a short shared start is not worth a wait
    [InlineData(100, 0, 16, true)]    // a shared system prompt is
    [InlineData(100, 40, 50, false)]  // most of it can be reused right away
    [InlineData(100, 1, 1, false)]    // nothing more to gain (e.g. only BOS in common)
    public void A_newcomer_waits_for_a_worthwhile_shared_prefix(int promptLength, int now, int later, bool defer) =>
        Assert.Equal(defer, PromptSharing.ShouldDefer(promptLength, now, later));

    [Fact]
    public void A_waiting_request_starts_once_the_leader_has_evaluated_the_shared_part()
    {
        Assert.True(PromptSharing.ShouldKeepWaiting(90, 99));
        Assert.False(PromptSharing.ShouldKeepWaiting(99, 99));
    }

    [Theory]
    [InlineData(0, 100, false)]
    [InlineData(3, 100, false)]
    [InlineData(16, 100, true)]
    [InlineData(4, 5, true)]
    public void Cells_are_reused_only_for_a_worthwhile_share(int shared, int promptLength, bool keep) =>
        Assert.Equal(keep, PromptSharing.WorthReusing(shared, promptLength));
}
