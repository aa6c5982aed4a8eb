using System.Diagnostics;
using Inference.LoadTool;

namespace Inference.Tests.Benchmarks;

public class GenerateClientTests
{
    [Fact]
    public async Task Streams_and_times_pieces_from_a_fake_server()
    {
        await using var server = await FakeOllamaServer.StartAsync(pieces: 5,
            firstDelay: TimeSpan.FromMilliseconds(80), delay: TimeSpan.FromMilliseconds(30));
        var options = new LoadOptions { Url = server.Url, Model = "fake", TimeoutSeconds = 10 };
        using var http = GenerateClient.CreateHttpClient(options);

        var r = await new GenerateClient(http, options).RunAsync(0, "hello", CancellationToken.None);

        Assert.True(r.Ok, r.Error);
        Assert.Equal(200, r.StatusCode);
        Assert.Equal(5, r.EvalCount);
        Assert.Equal(11, r.PromptEvalCount);
        Assert.Equal(5, r.Pieces);
        Assert.InRange(r.TtftMs!.Value, 70, 5000);          // lines really arrive as they are written
        Assert.Equal(4, r.InterTokenMs.Count);
        // The last piece is written >= 80 + 4 * 30 ms after the request; individual gaps can collapse when
        // a starved test host reads two buffered lines at once, so only the cumulative time is asserted.
        Assert.InRange(r.TtftMs.Value + r.InterTokenMs.Sum(), 190, 5000);
        Assert.True(r.TotalMs >= r.TtftMs + r.InterTokenMs.Sum() - 1);
    }

    [Theory]
    [InlineData("fail-http", "HTTP 500")]
    [InlineData("fail-line", "model exploded")]
    public async Task Reports_errors(string prompt, string expected)
    {
        await using var server = await FakeOllamaServer.StartAsync(3, TimeSpan.Zero, TimeSpan.Zero);
        var options = new LoadOptions { Url = server.Url, TimeoutSeconds = 10 };
        using var http = GenerateClient.CreateHttpClient(options);

        var r = await new GenerateClient(http, options).RunAsync(0, prompt, CancellationToken.None);

        Assert.False(r.Ok);
        Assert.Contains(expected, r.Error);
    }

    [Fact]
    public async Task Runner_aggregates_concurrent_requests_and_skips_warmup()
    {
        await using var server = await FakeOllamaServer.StartAsync(4, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(5));
        var options = new LoadOptions
        {
            Url = server.Url, Clients = 3, Requests = 9, Warmup = 2, OutputTokens = 4, PromptTokens = 16,
            SharedPrefixTokens = 8, SharedPrefixShare = 0.5, TimeoutSeconds = 10, Label = "fake",
        };
        using var http = GenerateClient.CreateHttpClient(options);

        var report = await new LoadRunner(options, http).RunAsync(null, CancellationToken.None);

        Assert.Equal(11, server.Requests);
        Assert.Equal(9, report.Requests);
        Assert.Equal(0, report.Errors);
        Assert.Equal(36, report.GeneratedTokens);
        Assert.True(report.GeneratedTokensPerSecond > 0);
        Assert.True(report.TtftP50Ms <= report.TtftP99Ms);
        Assert.Contains("\"ttft_p95_ms\"", report.ToJson());
        Assert.Contains("generated tokens/s", report.ToTable());
    }

    [Fact]
    public void Stream_parser_handles_blank_bad_and_missing_done_lines()
    {
        var t0 = Stopwatch.GetTimestamp();
        var ms = Stopwatch.Frequency / 1000;
        var s = new GenerateStream(t0);
        s.OnLine("", t0);
        s.OnLine("{\"response\":\"\",\"done\":false}", t0 + 5 * ms);   // empty piece: not the first token
        s.OnLine("{\"response\":\"a\",\"done\":false}", t0 + 10 * ms);
        s.OnLine("{\"response\":\"b\",\"done\":false}", t0 + 25 * ms);
        var r = s.Complete(3, 200, t0 + 30 * ms);
        Assert.Equal(10, r.TtftMs!.Value, 3);
        Assert.Equal(15, Assert.Single(r.InterTokenMs), 3);
        Assert.Equal("stream ended without a done line", r.Error);

        var bad = new GenerateStream(t0);
        bad.OnLine("not json", t0);
        bad.OnLine("{\"done\":true,\"eval_count\":2}", t0);
        Assert.StartsWith("bad NDJSON line", bad.Complete(0, 200, t0).Error);
    }
}
