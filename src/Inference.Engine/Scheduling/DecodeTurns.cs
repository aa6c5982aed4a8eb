namespace Inference.Engine.Scheduling;

/// <summary>
/// Makes a model's generation decodes and embedding decodes take turns instead of running at once.
/// On a CPU both would use every core: run together, their thread pools (which spin at every
/// barrier) preempt each other and a generation step takes many times longer
/// (benchmarks/README.md, embeddings under load). Generation has priority: an embedding decode
/// starts only while no generation decode runs or waits, that is, between two generation steps.
/// </summary>
public sealed class DecodeTurns
{
    // A monitor, not a Lock: the waits need Monitor.Wait/PulseAll.
    private readonly object _gate = new();
    private bool _busy;
    private int _generationWaiting;

    public T Generation<T>(Func<T> decode)
    {
        lock (_gate)
        {
            _generationWaiting++;
            while (_busy) Monitor.Wait(_gate);
            _generationWaiting--;
            _busy = true;
        }
        try
        {
            return decode();
        }
        finally
        {
            Exit();
        }
    }

    public T Embedding<T>(Func<T> decode)
    {
        lock (_gate)
        {
            while (_busy || _generationWaiting > 0) Monitor.Wait(_gate);
            _busy = true;
        }
        try
        {
            return decode();
        }
        finally
        {
            Exit();
        }
    }

    private void Exit()
    {
        lock (_gate)
        {
            _busy = false;
            Monitor.PulseAll(_gate);
        }
    }
}

/// <summary>
/// How many tokens an embedding decode may hold while sequences generate, so that the turn it takes
/// between two generation steps lasts about as long as one step (the streams' inter-token time then
/// at most about doubles while embeddings run). It learns both costs from the decodes it sees
/// (exponential moving averages), since they depend on the model, the machine and the batch.
/// </summary>
public sealed class EmbeddingPacer(double stepsPerTurn = 1.0)
{
    private const double Smoothing = 0.2;
    private double _stepSeconds;
    private double _tokenSeconds;
    private readonly Lock _gate = new();

    /// <summary>Tokens the next embedding decode may hold (at least one input always goes in, whatever its length).</summary>
    public int TokenBudget(bool generating, int max)
    {
        if (!generating) return max;
        lock (_gate)
        {
            if (_stepSeconds <= 0 || _tokenSeconds <= 0) return 1;
            return (int)Math.Clamp(stepsPerTurn * _stepSeconds / _tokenSeconds, 1, max);
        }
    }

    public void ObserveGenerationStep(TimeSpan elapsed)
    {
        lock (_gate) _stepSeconds = Average(_stepSeconds, elapsed.TotalSeconds);
    }

    public void ObserveEmbedding(int tokens, TimeSpan elapsed)
    {
        if (tokens <= 0) return;
        lock (_gate) _tokenSeconds = Average(_tokenSeconds, elapsed.TotalSeconds / tokens);
    }

    private static double Average(double current, double sample) =>
        current <= 0 ? sample : current + Smoothing * (sample - current);
}
