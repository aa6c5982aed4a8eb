namespace Inference.Engine.Scheduling;

/// <summary>
/// Decides how many prompt tokens may join a step while other sequences are generating, so that
/// admitting a long prompt stretches their inter-token latency to at most LatencyFactor times a
/// decode-only step. It learns both costs from the steps it sees (exponential moving averages),
/// since they depend on the model, the machine and the number of running sequences.
/// </summary>
internal sealed class PrefillPacer(double latencyFactor, int minChunk = 4)
{
    private const double Smoothing = 0.2;
    private double _decodeStepSeconds;
    private double _promptTokenSeconds;

    public bool Enabled => latencyFactor > 1;

    /// <summary>Prompt tokens allowed in the next step.</summary>
    public int PromptBudget(int decodingSequences, int maxBudget)
    {
        if (!Enabled || decodingSequences == 0) return maxBudget;
        if (_decodeStepSeconds <= 0 || _promptTokenSeconds <= 0) return Math.Min(maxBudget, minChunk);
        double allowed = (latencyFactor - 1) * _decodeStepSeconds / _promptTokenSeconds;
        return (int)Math.Clamp(allowed, minChunk, Math.Max(minChunk, maxBudget));
    }

    /// <summary>Seconds a step of this many prompt tokens alone is expected to take; 0 before any prompt was seen.</summary>
    public double PromptSeconds(int promptTokens) => promptTokens * _promptTokenSeconds;

    public void Observe(int decodeTokens, int promptTokens, TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds;
        if (promptTokens == 0)
        {
            if (decodeTokens > 0) _decodeStepSeconds = Average(_decodeStepSeconds, seconds);
            return;
        }
        double decodePart = decodeTokens > 0 ? _decodeStepSeconds : 0;
        _promptTokenSeconds = Average(_promptTokenSeconds, Math.Max(seconds - decodePart, 0) / promptTokens);
    }

    private static double Average(double current, double sample) =>
        current <= 0 ? sample : current + Smoothing * (sample - current);
}
