using Inference.LoadTool;

namespace Inference.Tests.Benchmarks;

public class PromptMixTests
{
    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.25, 25)]
    [InlineData(0.5, 50)]
    [InlineData(0.9, 90)]
    [InlineData(1.0, 100)]
    public void Shared_prefix_share_is_exact(double share, int expected)
    {
        var mix = new PromptMix(seed: 1, promptTokens: 64, sharedPrefixTokens: 32, sharedPrefixShare: share);
        var prefix = string.Join(' ', mix.SharedPrefixWords);
        var shared = Enumerable.Range(0, 100).Count(i => mix.Build(i).StartsWith(prefix + " ", StringComparison.Ordinal));
        Assert.Equal(expected, shared);
        Assert.Equal(expected, Enumerable.Range(0, 100).Count(mix.UsesSharedPrefix));
    }

    [Fact]
    public void Prompts_are_deterministic_and_sized()
    {
        var a = new PromptMix(7, 100, 40, 0.5);
        var b = new PromptMix(7, 100, 40, 0.5);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(a.Build(i), b.Build(i));
            Assert.Equal(100, a.Build(i).Split(' ').Length);
        }
        Assert.NotEqual(a.Build(0), a.Build(1));
        Assert.NotEqual(new PromptMix(8, 100, 40, 0.5).Build(0), a.Build(0));
    }

    [Fact]
    public void Unique_prompts_do_not_share_the_first_word()
    {
        // Not even consecutive numbers: "request 1000:" and "request 1001:" would share their first tokens.
        var mix = new PromptMix(3, 50, 20, 0.0);
        var first = Enumerable.Range(1_000, 100).Select(i => mix.Build(i).Split(' ')[0]).ToList();
        Assert.Equal(first.Count, first.Distinct().Count());
        Assert.Equal(50, mix.Build(1_000).Split(' ').Length);
    }

    [Fact]
    public void Prefix_longer_than_prompt_is_clamped()
    {
        var mix = new PromptMix(3, 10, 50, 1.0);
        Assert.Equal(10, mix.SharedPrefixWords.Count);
        Assert.Equal(string.Join(' ', mix.SharedPrefixWords), mix.Build(5));
    }
}
