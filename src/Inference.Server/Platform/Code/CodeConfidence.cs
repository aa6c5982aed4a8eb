using Inference.Engine.Scheduling;

namespace Inference.Server.Platform.Code;

/// <summary>
/// How sure the model was of what it wrote: a completion's confidence is the geometric mean of its
/// sampled tokens' probabilities (exp of their mean log-probability under the model's own
/// distribution, before temperature), so it does not shrink with length the way a product would.
/// </summary>
public static class CodeConfidence
{
    /// <summary>The completion's confidence, or null when it has no tokens (the model ended at once).</summary>
    public static double? Of(IReadOnlyList<TokenLogprob> tokens)
    {
        if (tokens.Count == 0) return null;
        double mean = tokens.Average(t => (double)t.Logprob);
        return Math.Clamp(Math.Exp(mean), 0, 1);
    }

    /// <summary>The mean over completions that have one; 0 when none has (nothing was suggested).</summary>
    public static double Overall(IEnumerable<double?> confidences)
    {
        var known = confidences.OfType<double>().ToList();
        return known.Count == 0 ? 0 : known.Average();
    }
}
