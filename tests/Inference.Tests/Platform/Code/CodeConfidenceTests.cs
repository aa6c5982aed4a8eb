using Inference.Engine.Scheduling;
using Inference.Server.Platform.Code;

namespace Inference.Tests.Platform.Code;

public sealed class CodeConfidenceTests
{
    private static TokenLogprob T(double p) => new("t", (float)Math.Log(p), [], []);

    [Fact]
    public void A_completion_scores_the_geometric_mean_of_its_token_probabilities()
    {
        Assert.Equal(Math.Sqrt(0.9 * 0.4), CodeConfidence.Of([T(0.9), T(0.4)])!.Value, 6);
        Assert.Equal(1.0, CodeConfidence.Of([T(1)])!.Value, 6);
        Assert.Null(CodeConfidence.Of([]));
    }

    [Fact]
    public void The_overall_confidence_averages_completions_that_have_tokens()
    {
        Assert.Equal(0.5, CodeConfidence.Overall([0.4, null, 0.6]), 12);
        Assert.Equal(0, CodeConfidence.Overall([null]));
    }
}
