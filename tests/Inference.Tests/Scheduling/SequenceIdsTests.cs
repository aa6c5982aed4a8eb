using Inference.Engine.Scheduling;
using static Inference.Engine.Scheduling.SequenceIds.State;

namespace Inference.Tests.Scheduling;

public sealed class SequenceIdsTests
{
    private static SequenceIds With(params SequenceIds.State[] states)
    {
        var ids = new SequenceIds(states.Length);
        for (int i = 0; i < states.Length; i++) ids[i] = states[i];
        return ids;
    }

    /// <summary>Cached ids were last used in the order of their id times 10 unless told otherwise.</summary>
    private static int Choose(SequenceIds ids, Func<int, long>? lastUsed = null) => ids.Choose(lastUsed ?? (i => i * 10L));

    [Fact]
    public void With_nothing_running_the_lowest_free_id_is_taken_before_any_cached_one()
    {
        Assert.Equal(0, Choose(With(Free, Free, Free)));
        Assert.Equal(2, Choose(With(Cached, Cached, Free, Free)));
    }

    [Fact]
    public void A_new_sequence_goes_next_to_the_running_ones_so_a_step_stays_one_pass()
    {
        Assert.Equal(1, Choose(With(Running, Free, Free, Free)));
        Assert.Equal(3, Choose(With(Free, Cached, Running, Free)));
        // Joining two runs into one beats extending one.
        Assert.Equal(2, Choose(With(Running, Running, Free, Running, Free)));
        // A cached prefix next to the running ones is given up rather than splitting the step with a free id.
        Assert.Equal(1, Choose(With(Running, Cached, Free, Free)));
    }

    [Fact]
    public void Among_cached_ids_the_least_recently_used_is_given_up()
    {
        Assert.Equal(1, Choose(With(Cached, Cached, Cached), i => i == 1 ? 5 : 50));
        Assert.Equal(2, Choose(With(Cached, Running, Cached), i => i == 0 ? 50 : 5));
    }

    [Fact]
    public void When_every_id_runs_there_is_none()
    {
        Assert.Equal(-1, Choose(With(Running, Running)));
    }
}
