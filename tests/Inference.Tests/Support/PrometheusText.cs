using System.Globalization;

namespace Inference.Tests.Support;

/// <summary>Reads sample values out of Prometheus' text exposition format.</summary>
public static class PrometheusText
{
    /// <summary>The value of the sample whose name and label set start with the given text, e.g. inference_active_sequences{model="stories:latest"}.</summary>
    public static double Value(string exposition, string sample)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(sample, StringComparison.Ordinal)) continue;
            var rest = line[sample.Length..];
            if (rest.Length > 0 && rest[0] != ' ') continue;
            return double.Parse(rest.Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    public static async Task<double> ScrapeAsync(HttpClient client, string sample) =>
        Value(await client.GetStringAsync("/metrics"), sample);
}
