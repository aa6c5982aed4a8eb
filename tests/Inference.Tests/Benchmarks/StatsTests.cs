using Inference.LoadTool;

namespace Inference.Tests.Benchmarks;

public class StatsTests
{
    [Fact]
    public void Percentile_interpolates_between_ranks()
    {
        double[] v = [4, 1, 3, 2, 5]; // unsorted on purpose
        Assert.Equal(1, Stats.Percentile(v, 0));
        Assert.Equal(3, Stats.Percentile(v, 50));
        Assert.Equal(5, Stats.Percentile(v, 100));
        Assert.Equal(4.6, Stats.Percentile(v, 90), 9);   // rank 3.6 -> 4 + 0.6
        Assert.Equal(4.96, Stats.Percentile(v, 99), 9);
    }

    [Fact]
    public void Percentile_handles_single_and_empty_samples()
    {
        Assert.Equal(7, Stats.Percentile([7.0], 99));
        Assert.True(double.IsNaN(Stats.Percentile([], 50)));
    }

    [Fact]
    public void Percentile_matches_nearest_values_on_a_large_sample()
    {
        var v = Enumerable.Range(1, 1000).Select(i => (double)i).ToArray();
        Assert.Equal(500.5, Stats.Percentile(v, 50), 9);
        Assert.Equal(990.01, Stats.Percentile(v, 99), 9);
    }
}
