using Inference.Engine.Prompting;

namespace Inference.Tests.Prompting;

/// <summary>Every render is bounded: iterations, output, the values functions build, and time.</summary>
public class TemplateLimitTests
{
    private static readonly TemplateData Data = new() { Prompt = "hi" };

    /// <summary>
    /// The limit a render runs into. By default on a clock that stands still, so a test of the other
    /// limits cannot run into the time limit on a loaded machine instead.
    /// </summary>
    private static TemplateLimitException Limit(string template, int maxOutput = TemplateLimits.MaxOutputChars, TimeProvider? time = null) =>
        Assert.Throws<TemplateLimitException>(() => GoTemplate.Parse(template).Render(Data, time ?? new StoppedClock(), maxOutput));

    /// <summary>A clock that never moves.</summary>
    private sealed class StoppedClock : TimeProvider
    {
        public override long GetTimestamp() => 0;
    }

    [Fact]
    public void A_range_over_a_constant_beyond_the_limit_is_refused_when_parsed()
    {
        var e = Assert.Throws<TemplateParseException>(() => GoTemplate.Parse("{{ range 100000000 }}x{{ end }}"));
        Assert.Equal("template: 1:10: range over 100000000 would exceed the limit of 1000000 iterations per render", e.Message);
        // Nested constant ranges multiply.
        e = Assert.Throws<TemplateParseException>(() => GoTemplate.Parse("{{ range 1000 }}{{ range 1001 }}{{ end }}{{ end }}"));
        Assert.Equal("range over 1001 would exceed the limit of 1000000 iterations per render", e.Reason);
        // Siblings do not; and a loop at the limit is fine.
        Assert.Equal("", GoTemplate.Parse("{{ range 999 }}{{ end }}{{ range 1000 }}{{ range 990 }}{{ end }}{{ end }}").Render(Data));
        Assert.Equal(1000000, GoTemplate.Parse("{{ range 1000000 }}x{{ end }}").Render(Data).Length);
        // A float constant is no count: every render would fail, so the parse does.
        e = Assert.Throws<TemplateParseException>(() => GoTemplate.Parse("{{ range 1e12 }}x{{ end }}"));
        Assert.Equal("range can't iterate over 1e12", e.Reason);
    }

    [Fact]
    public void Iterations_are_counted_over_all_loops_of_a_render()
    {
        var e = Limit("{{ $n := 100000000 }}{{ range $n }}{{ end }}");
        Assert.Equal(TemplateLimit.Iterations, e.Limit);
        Assert.Equal("template: 1:25: range iterations exceed the limit of 1000000 per render", e.Message);
        // Two loops of 600000 each pass the limit together.
        Assert.Equal(TemplateLimit.Iterations, Limit("{{ range 600000 }}{{ end }}{{ range 600000 }}{{ end }}").Limit);
    }

    [Fact]
    public void Output_stops_at_the_callers_limit_and_at_the_template_limit()
    {
        var e = Limit("{{ range 1000 }}0123456789{{ end }}", maxOutput: 1000);
        Assert.Equal(TemplateLimit.Output, e.Limit);
        Assert.Equal("template: 1:17: the output would exceed 1000 characters", e.Message);
        Assert.Equal(1000, GoTemplate.Parse("{{ range 100 }}0123456789{{ end }}").Render(Data, 1000).Length);

        e = Limit("{{ range 1000000 }}{{ printf \"%020d\" 1 }}{{ end }}");
        Assert.Equal(TemplateLimit.Output, e.Limit);
        Assert.Equal($"the output would exceed {TemplateLimits.MaxOutputChars} characters", e.Message[(e.Message.IndexOf(": ", 10) + 2)..]);
    }

    [Theory]
    // Doubling a variable: nothing is written, the value grows.
    [InlineData("{{ $x := \"ab\" }}{{ range 40 }}{{ $x = print $x $x }}{{ end }}", "print")]
    [InlineData("{{ $x := \"ab\" }}{{ range 40 }}{{ $x = printf \"%s%s\" $x $x }}{{ end }}", "printf")]
    [InlineData("{{ $x := \"ab\" }}{{ range 40 }}{{ $x = println $x $x }}{{ end }}", "println")]
    // Widths: each at most 999999, but any number of them.
    [InlineData("{{ printf \"%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d\" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 }}", "printf")]
    public void Values_that_functions_build_are_bounded_like_the_output(string template, string function)
    {
        var e = Limit(template);
        Assert.Equal(TemplateLimit.Value, e.Limit);
        Assert.EndsWith($"{function} built a value longer than {TemplateLimits.MaxOutputChars} characters", e.Message);
    }

    /// <summary>A clock that moves one second every time it is read.</summary>
    private sealed class RacingClock : TimeProvider
    {
        private long _now;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _now += TimeSpan.TicksPerSecond;
    }

    [Fact]
    public void A_render_that_takes_too_long_stops_with_a_time_limit()
    {
        var e = Limit("{{ range 100000 }}{{ end }}", time: new RacingClock());
        Assert.Equal(TemplateLimit.Time, e.Limit);
        Assert.EndsWith("rendering took longer than 2 s", e.Message);
        // On the real clock: each len reads a million characters, far too slow for 900000 of them.
        var started = DateTime.UtcNow;
        e = Limit("{{ $x := printf \"%0999999d\" 0 }}{{ range 900000 }}{{ $y := len $x }}{{ end }}", time: TimeProvider.System);
        Assert.Equal(TemplateLimit.Time, e.Limit);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void The_deepest_nesting_the_parser_accepts_renders_without_exhausting_the_stack()
    {
        const int depth = 999;
        var template = string.Concat(Enumerable.Repeat("{{ if true }}{{ with . }}", depth / 2)) + "{{ .Prompt }}" +
            string.Concat(Enumerable.Repeat("{{ end }}{{ end }}", depth / 2));
        string? output = null;
        // A thread pool thread's stack, at its smallest: 1.5 MB on Linux.
        var thread = new Thread(() => output = GoTemplate.Parse(template).Render(Data), 1536 * 1024);
        thread.Start();
        thread.Join();
        Assert.Equal("hi", output);
    }
}
