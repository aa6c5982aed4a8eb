namespace Inference.LoadTool;

public static class Stats
{
    /// <summary>
    /// Percentile with linear interpolation between closest ranks (numpy's default), p in 0..100.
    /// Returns NaN for an empty sample so a missing metric is visible rather than reported as 0.
    /// </summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (p is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(p));
        if (values.Count == 0) return double.NaN;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return PercentileOfSorted(sorted, p);
    }

    public static double PercentileOfSorted(double[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        var rank = p / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
