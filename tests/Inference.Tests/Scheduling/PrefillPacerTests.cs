using Inference.Engine.Scheduling;

namespace Inference.Tests.Scheduling;

public sealed class PrefillPacerTests
{
    [Fact]
    public void Without_running_streams_a_prompt_gets_the_whole_step()
    {
        var pacer = new PrefillPacer(2.0);
        Assert.Equal(512, pacer.PromptBudget(decodingSequences: 0, maxBudget: 512));
    }

    [Fact]
    public void With_running_streams_chunks_fit_the_latency_factor()
    {
        var pacer = new PrefillPacer(3.0, minChunk: 4);
        Assert.Equal(4, pacer.PromptBudget(2, 512)); // nothing learnt yet: smallest chunk
        pacer.Observe(decodeTokens: 2, promptTokens: 0, TimeSpan.FromMilliseconds(100));
        pacer.Observe(decodeTokens: 2, promptTokens: 10, TimeSpan.FromMilliseconds(150)); // 5 ms per prompt token
        // Up to (3 - 1) x 100 ms of prompt work per step: 40 tokens.
        Assert.Equal(40, pacer.PromptBudget(2, 512));
        Assert.Equal(30, pacer.PromptBudget(2, 30));
    }

    [Fact]
    public void A_factor_of_one_or_less_disables_pacing()
    {
        var pacer = new PrefillPacer(1.0);
        pacer.Observe(1, 0, TimeSpan.FromMilliseconds(10));
        Assert.Equal(256, pacer.PromptBudget(3, 256));
    }
}
