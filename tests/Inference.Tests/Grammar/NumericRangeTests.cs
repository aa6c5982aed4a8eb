using System.Globalization;
using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Checking;

namespace Inference.Tests.Grammar;

/// <summary>
/// Integer and number ranges compared with arithmetic: for random bounds, values at, next to and between the
/// bounds (and random ones) are accepted by the grammar exactly when they lie in the range.
/// </summary>
public sealed class NumericRangeTests
{
    private static bool Matches(string grammar, string text) => new GbnfMatcher(GbnfParser.Parse(grammar, "root")).Match(text).Complete;

    private static string Convert(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return JsonGrammar.FromSchema(document.RootElement);
    }

    private static long RandomBound(Random random) => random.Next(4) switch
    {
        0 => random.Next(-20, 21),
        1 => random.Next(-5000, 5001),
        2 => random.NextInt64(-10_000_000_000, 10_000_000_001),
        _ => (long)Math.Pow(10, random.Next(0, 16)) * (random.Next(2) == 0 ? 1 : -1) + random.Next(-2, 3),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void IntegerRangesAreExact(int seed)
    {
        var random = new Random(seed);
        for (int round = 0; round < 60; round++)
        {
            long a = RandomBound(random), b = RandomBound(random);
            long lo = Math.Min(a, b), hi = Math.Max(a, b);
            int kind = random.Next(3);
            var schema = kind switch
            {
                0 => $$"""{"type":"integer","minimum":{{lo}},"maximum":{{hi}}}""",
                1 => $$"""{"type":"integer","exclusiveMinimum":{{lo - 1}},"exclusiveMaximum":{{hi + 1}}}""",
                _ => $$"""{"type":"integer","minimum":{{lo}}}""",
            };
            long? max = kind == 2 ? null : hi;
            var grammar = Convert(schema);
            var values = new List<long> { lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, 0, -1, 1, (lo / 2) + (hi / 2) };
            for (int i = 0; i < 20; i++) values.Add(random.NextInt64(lo - 100, hi + 100));
            foreach (var v in values)
            {
                bool expected = v >= lo && (max is null || v <= max) && Math.Abs(v) < 10_000_000_000_000_000;
                var text = v.ToString(CultureInfo.InvariantCulture);
                Assert.True(Matches(grammar, text) == expected, $"{schema}: {text} should be {(expected ? "accepted" : "rejected")}\n{grammar}");
            }
            Assert.False(Matches(grammar, "0" + Math.Abs(lo).ToString(CultureInfo.InvariantCulture)) && lo != 0 && Math.Abs(lo) < 10, "leading zero");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void NumberRangesAreExact(int seed)
    {
        var random = new Random(seed);
        decimal RandomDecimal() => Math.Round((decimal)(random.NextDouble() * 200 - 100), random.Next(0, 4));
        for (int round = 0; round < 40; round++)
        {
            decimal a = RandomDecimal(), b = RandomDecimal();
            decimal lo = Math.Min(a, b), hi = Math.Max(a, b);
            bool exclusive = random.Next(2) == 0;
            var schema = exclusive
                ? $$"""{"type":"number","exclusiveMinimum":{{lo}},"exclusiveMaximum":{{hi}}}"""
                : $$"""{"type":"number","minimum":{{lo}},"maximum":{{hi}}}""";
            var grammar = Convert(schema);
            var values = new List<decimal> { lo, hi, lo - 0.001m, lo + 0.001m, hi - 0.001m, hi + 0.001m, lo - 1, hi + 1, 0, (lo + hi) / 2 };
            for (int i = 0; i < 20; i++) values.Add(Math.Round(lo - 1 + (decimal)random.NextDouble() * (hi - lo + 2), random.Next(0, 6)));
            foreach (var v in values)
            {
                bool expected = exclusive ? v > lo && v < hi : v >= lo && v <= hi;
                var text = v.ToString(CultureInfo.InvariantCulture);
                if (text.StartsWith("-0", StringComparison.Ordinal) && v == 0) continue;
                Assert.True(Matches(grammar, text) == expected, $"{schema}: {text} should be {(expected ? "accepted" : "rejected")}\n{grammar}");
            }
        }
    }
}
