using Inference.Server.Platform.Code;

namespace Inference.Tests.Platform.Code;

public sealed class CodeWindowTests
{
    /// <summary>A stand-in tokenizer: one token per 4 characters, rounded up.</summary>
    private static int Count(string s) => (s.Length + 3) / 4;

    private static string Lines(string tag, int count) => string.Concat(Enumerable.Range(0, count).Select(i => $"{tag}{i:D3} = 0;\n"));

    [Fact]
    public void Code_that_fits_is_kept_whole()
    {
        Assert.Equal(("abc", "def"), CodeWindow.Fit("abc", "def", 10, Count));
    }

    [Fact]
    public void A_long_file_keeps_the_lines_nearest_the_cursor_within_the_budget()
    {
        string before = Lines("b", 200) + "int x = ", after = "1;\n" + Lines("a", 200);
        var (b, a) = CodeWindow.Fit(before, after, 300, Count);

        Assert.True(Count(b) + Count(a) <= 300);
        Assert.EndsWith("int x = ", b);          // the text right before the cursor is never cut
        Assert.StartsWith("1;\n", a);
        Assert.StartsWith("b", b);               // cut at a line start...
        Assert.EndsWith(";\n", a);               // ...and after a line end
        Assert.InRange(Count(a), 40, 75);        // the text after the cursor gets about a quarter
        Assert.True(Count(b) > 200);
    }

    [Fact]
    public void A_short_side_leaves_its_share_to_the_other()
    {
        string before = Lines("b", 200), after = "}\n";
        var (b, a) = CodeWindow.Fit(before, after, 300, Count);
        Assert.Equal(after, a);
        Assert.True(Count(b) > 280 && Count(b) + Count(a) <= 300);
    }

    [Fact]
    public void Cuts_never_split_a_surrogate_pair()
    {
        // One long line of emoji (no line breaks to snap to): any cut lands on a pair boundary.
        string emoji = string.Concat(Enumerable.Repeat("😀", 500));
        var (b, a) = CodeWindow.Fit(emoji + "x", "y" + emoji, 101, Count);
        Assert.False(char.IsLowSurrogate(b[0]));
        Assert.False(char.IsHighSurrogate(a[^1]));
        Assert.EndsWith("x", b);
        Assert.StartsWith("y", a);
    }
}
