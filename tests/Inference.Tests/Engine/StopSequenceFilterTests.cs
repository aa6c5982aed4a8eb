using Inference.Engine.Scheduling;

namespace Inference.Tests.Engine;

public sealed class StopSequenceFilterTests
{
    [Fact]
    public void Holds_back_a_possible_stop_prefix_until_it_is_decided()
    {
        var f = new StopSequenceFilter(["</end>"]);
        Assert.Equal(("Hello ", false), f.Push("Hello </"));
        Assert.Equal(("</x", false), f.Push("x"));
        Assert.Equal((" ", false), f.Push(" </en"));
        Assert.Equal(("", true), f.Push("d>tail"));
    }

    [Fact]
    public void Finds_the_earliest_of_several_stops_across_pieces()
    {
        var f = new StopSequenceFilter(["cat", "at the"]);
        // "at " could start "at the", so it is held back until the next piece decides.
        Assert.Equal(("I s", false), f.Push("I sat "));
        Assert.Equal(("at ", false), f.Push("ca"));
        Assert.Equal(("", true), f.Push("t"));
    }

    [Fact]
    public void Names_the_stop_that_ended_the_text_the_earliest_one_when_several_match()
    {
        var f = new StopSequenceFilter(["world", "lo w"]);
        Assert.Equal(("he", false), f.Push("hel")); // "l" could start "lo w"
        Assert.Null(f.Matched);
        // Both are in "hello world"; "lo w" starts first, though it is listed second.
        Assert.Equal(("l", true), f.Push("lo world"));
        Assert.Equal("lo w", f.Matched);
        Assert.Null(new StopSequenceFilter([]).Matched);
    }

    [Fact]
    public void Without_stops_everything_passes_and_flush_returns_held_text()
    {
        Assert.Equal(("abc", false), new StopSequenceFilter([]).Push("abc"));
        var f = new StopSequenceFilter(["STOP"]);
        Assert.Equal(("x", false), f.Push("xST"));
        Assert.Equal("ST", f.Flush());
    }
}
