using Inference.Engine.Generation;
using Inference.Engine.Prompting;

namespace Inference.Tests.Prompting;

/// <summary>
/// The streaming reasoning/content splitter: Ollama's rules (thinking/parser.go) with the text arriving in arbitrary
/// pieces, tags split across them, and what is held back released at the end.
/// </summary>
public sealed class ThinkingSplitterTests
{
    /// <summary>Feeds the pieces, then finishes; returns everything it gave out and each step's result.</summary>
    private static (string Thinking, string Content, List<(string, string)> Steps) Split(params string[] pieces)
    {
        var splitter = new ThinkingSplitter(ThinkingTags.Think);
        var steps = pieces.Select(splitter.Add).ToList();
        steps.Add(splitter.Finish());
        return (string.Concat(steps.Select(s => s.Item1)), string.Concat(steps.Select(s => s.Item2)), steps);
    }

    [Fact]
    public void Reasoning_and_content_are_separated_and_whitespace_around_the_tags_dropped()
    {
        var (thinking, content, _) = Split("  <think>\n  I plan.\n</think>\n\nHello there");
        Assert.Equal("I plan.\n", thinking);
        Assert.Equal("Hello there", content);
    }

    [Fact]
    public void Every_way_of_cutting_the_text_in_two_or_three_pieces_gives_the_same_split()
    {
        const string text = "<think>a < b </thi</think> x</think>";
        for (int i = 0; i <= text.Length; i++)
        {
            for (int j = i; j <= text.Length; j++)
            {
                var (thinking, content, _) = Split(text[..i], text[i..j], text[j..]);
                Assert.Equal("a < b </thi", thinking);
                Assert.Equal("x</think>", content);
            }
        }
    }

    [Fact]
    public void One_character_at_a_time_holds_back_only_what_could_be_a_tag()
    {
        var (_, _, steps) = Split([.. "<think>ab</think>c".Select(c => c.ToString())]);
        // "<think>" gives nothing; "a", "b" come out at once; "</think>" is held until it is complete; "c" is content.
        Assert.Equal(
            [("", ""), ("", ""), ("", ""), ("", ""), ("", ""), ("", ""), ("", ""), ("a", ""), ("b", ""),
             ("", ""), ("", ""), ("", ""), ("", ""), ("", ""), ("", ""), ("", ""), ("", ""), ("", "c"), ("", "")],
            steps);
    }

    [Fact]
    public void Output_that_does_not_open_with_the_tag_is_all_content_whitespace_included()
    {
        Assert.Equal(("", " Hello <think>x</think>"), Pick(Split(" Hel", "lo <think>x</think>")));
        // Held as a possible tag, then not one.
        Assert.Equal(("", "<thought>"), Pick(Split("<th", "ought>")));
    }

    [Fact]
    public void What_is_held_at_the_end_is_what_it_looked_like()
    {
        Assert.Equal(("", "<thi"), Pick(Split("<thi")));            // an unfinished opening tag is content
        Assert.Equal(("never closed </th", ""), Pick(Split("<think>never closed </th"))); // open reasoning stays reasoning
        Assert.Equal(("x", ""), Pick(Split("<think>x</think>  ")));  // only whitespace after the close: no content
        Assert.Equal(("", ""), Pick(Split("<think>", "  ")));
    }

    [Fact]
    public void A_prompt_that_opened_the_tag_starts_inside_the_reasoning()
    {
        var splitter = new ThinkingSplitter(ThinkingTags.Think);
        Assert.Equal(("", ""), splitter.Add("<think>"));
        Assert.Equal(("I plan.", ""), splitter.Add("I plan.</th"));
        Assert.False(splitter.ThinkingEnded);
        Assert.Equal(("", "Hi"), splitter.Add("ink>Hi"));
        Assert.True(splitter.ThinkingEnded);
        Assert.Equal(("", " more"), splitter.Add(" more"));
    }

    [Fact]
    public void Other_tags_work_the_same()
    {
        var splitter = new ThinkingSplitter(new ThinkingTags("[THINK]", "[/THINK]"));
        Assert.Equal(("r", ""), splitter.Add("[THINK]r[/THI"));
        Assert.Equal(("", "c"), splitter.Add("NK]c"));
    }

    private static (string, string) Pick((string Thinking, string Content, List<(string, string)> _) r) => (r.Thinking, r.Content);
}
