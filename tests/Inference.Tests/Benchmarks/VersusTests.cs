using System.Diagnostics;
using System.Text.Json;
using Inference.LoadTool;
using Inference.Tests.Support;

namespace Inference.Tests.Benchmarks;

/// <summary>
/// The side-by-side harness's parts: the /v1/completions event parser, the report's arithmetic, and the
/// client against the real server (what the harness sends to both servers).
/// </summary>
public sealed class VersusTests
{
    private static long At(long start, double ms) => start + (long)(ms * Stopwatch.Frequency / 1000);

    [Fact]
    public void Completion_events_give_ttft_text_usage_and_the_finish_time()
    {
        long start = Stopwatch.GetTimestamp();
        var s = new CompletionStream(start);
        s.OnLine(": keep-alive comment", At(start, 1));
        s.OnLine("data: {\"choices\":[{\"text\":\"Once\",\"index\":0,\"finish_reason\":null}]}", At(start, 100));
        s.OnLine("", At(start, 100));
        s.OnLine("data: {\"choices\":[{\"text\":\" upon\",\"index\":0,\"finish_reason\":null}]}", At(start, 130));
        s.OnLine("data: {\"choices\":[{\"text\":\"\",\"index\":0,\"finish_reason\":\"length\"}]}", At(start, 150));
        s.OnLine("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,\"total_tokens\":14,\"prompt_tokens_details\":{\"cached_tokens\":5}}}", At(start, 151));
        Assert.False(s.Done);
        s.OnLine("data: [DONE]", At(start, 152));
        Assert.True(s.Done);

        var r = s.Complete(3, 200, At(start, 160));
        Assert.True(r.Ok, r.Error);
        Assert.Equal("Once upon", r.Text);
        Assert.Equal((2, 12, 5, 2), (r.EvalCount, r.PromptEvalCount, r.CachedPromptTokens, r.Pieces));
        Assert.Equal(100, r.TtftMs!.Value, 0.5);
        Assert.Equal(150, r.FinishMs!.Value, 0.5);
        Assert.Equal(30, r.InterTokenMs.Single(), 0.5);
    }

    [Theory]
    [InlineData(false, true, true, "stream ended without data: [DONE]")]
    [InlineData(true, false, true, "no choice carried a finish_reason")]
    [InlineData(true, true, false, "no usage with completion_tokens (stream_options.include_usage)")]
    public void An_incomplete_stream_is_an_error(bool done, bool finish, bool usage, string expected)
    {
        long start = Stopwatch.GetTimestamp();
        var s = new CompletionStream(start);
        s.OnLine("data: {\"choices\":[{\"text\":\"x\",\"finish_reason\":" + (finish ? "\"stop\"" : "null") + "}]" +
                 (usage ? ",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}" : "") + "}", At(start, 5));
        if (done) s.OnLine("data: [DONE]", At(start, 6));
        Assert.Equal(expected, s.Complete(0, 200, At(start, 7)).Error);
    }

    [Fact]
    public void An_error_event_is_reported_with_its_message()
    {
        long start = Stopwatch.GetTimestamp();
        var s = new CompletionStream(start);
        s.OnLine("data: {\"error\":{\"code\":500,\"message\":\"The model produced output that does not match the expected Content-only format\",\"type\":\"server_error\"}}", At(start, 5));
        var r = s.Complete(0, 200, At(start, 6));
        Assert.Equal("The model produced output that does not match the expected Content-only format", r.Error);
        Assert.Contains(VersusRunner.InvalidUtf8Error, r.Error);
    }

    [Fact]
    public void The_report_shows_medians_their_ratio_and_the_spread_of_pair_ratios()
    {
        var result = new VersusResult
        {
            Label = "m", Settings = "2 threads", Pairs = 3,
            Metrics =
            [
                new VersusMetric { Key = MetricKeys.Decode, Name = "single-stream decode (64 tokens)", Unit = "tok/s", HigherIsBetter = true, Ours = [10, 12, 11], Theirs = [10, 10, 10] },
                new VersusMetric { Name = "cold TTFT", Unit = "ms", Ours = [200, 300, 250], Theirs = [250, 250, 200] },
                new VersusMetric { Key = MetricKeys.Prefill, Name = "prefill (512-token prompt)", Unit = "tok/s", HigherIsBetter = true, Ours = [180, 190, 170], Theirs = [200, 225, 250] },
                // A pair where the streams never all decoded at once holds NaN: left out of the median and the spread.
                new VersusMetric { Key = MetricKeys.ArrivalsAllDecoding, Name = "8 simultaneous arrivals: decode while all 8 stream", Unit = "tok/s", HigherIsBetter = true,
                    Ours = [40, double.NaN, 48], Theirs = [40, 40, 40] },
            ],
            Checks = [new VersusCheck { Scenario = "single stream", Compared = 3, SameText = 2, SameTokenCounts = 3, SamePromptTokens = 3, RerunPairs = 1, FirstDifference = "pair 2 request 0: …" }],
        };
        using var dir = new TempDirectory();
        var ceiling = Path.Combine(dir.Path, "ceiling.json");
        File.WriteAllText(ceiling, """{"prefill_512_tok_s": 200.0, "step_ms": {"1": 50.0, "8": 160.0}}""");
        var batched = Path.Combine(dir.Path, "batched.jsonl");
        // Three runs with one sequence (the median counts), one with eight, two of a 512-token prompt (prefill: their speed_pp).
        File.WriteAllText(batched, "{\"pp\": 8, \"pl\": 1, \"speed_tg\": 12.0}\n{\"pp\": 8, \"pl\": 1, \"speed_tg\": 20.0}\n{\"pp\": 8, \"pl\": 1, \"speed_tg\": 21.0}\n" +
            "{\"pp\": 8, \"pl\": 8, \"speed_tg\": 40.0}\n{\"pp\": 512, \"pl\": 1, \"speed_pp\": 240.0, \"speed_tg\": 30.0}\n{\"pp\": 512, \"pl\": 1, \"speed_pp\": 260.0, \"speed_tg\": 9.0}\n");

        var table = VersusReport.Table([result],
            new Dictionary<string, VersusReport.Ceiling> { ["m"] = VersusReport.Ceiling.FromBatchCeiling(ceiling) },
            new Dictionary<string, VersusReport.Ceiling> { ["m"] = VersusReport.Ceiling.FromBatchedBench(batched) });

        var lines = table.Split('\n');
        Assert.Contains("| **m** (3 pairs) | | | | |", lines);
        Assert.Contains("| single-stream decode (64 tokens) (tok/s) | 11.0 | 10.0 | 1.10 | 1.00-1.20 |", lines);
        Assert.Contains("| cold TTFT (ms) | 250 | 250 | 1.00 | 0.80-1.25 |", lines);
        // 1,000 / 50 ms = 20 tok/s with one sequence, 8 x 1,000 / 160 ms = 50 with eight.
        Assert.Contains(lines, l => l.StartsWith("| bare decode ceiling, 1 sequence", StringComparison.Ordinal) && l.EndsWith("| 20.0 | 20.0 | 1.00 | |", StringComparison.Ordinal));
        Assert.Contains("| bare decode ceiling, 8 sequences (tok/s) | 50.0 | 40.0 | 1.25 | |", lines);
        Assert.Contains("| single-stream decode as a share of its library's 1-sequence ceiling | 55 % | 50 % | | |", lines);
        Assert.Contains("| bare prefill ceiling, one 512-token prompt in one llama_decode (tok/s) | 200 | 250 | 0.80 | |", lines);
        Assert.Contains("| prefill as a share of its library's prefill ceiling | 90 % | 90 % | | |", lines);
        Assert.Contains("| 8 simultaneous arrivals: decode while all 8 stream (tok/s) | 44.0 | 40.0 | 1.10 | 1.00-1.20 |", lines);
        Assert.Contains("| 8 arrivals decoding all at once as a share of its library's 8-sequence ceiling | 88 % | 100 % | | |", lines);
        Assert.Contains(lines, l => l.StartsWith("- single stream: same text 2/3, same completion tokens 3/3, same prompt tokens 3/3; 1 pair(s) re-run", StringComparison.Ordinal)
            && l.EndsWith("; first difference: pair 2 request 0: …", StringComparison.Ordinal));
    }

    [Fact]
    public void Ceilings_measured_before_and_after_the_runs_are_averaged_per_model()
    {
        using var dir = new TempDirectory();
        string Write(string name, string json) { var path = Path.Combine(dir.Path, name); File.WriteAllText(path, json); return path; }
        var before = Write("before.json", """{"prefill_512_tok_s": 200.0, "step_ms": {"1": 50.0, "8": 160.0}}""");
        // The machine slowed down during the runs; this file has no prefill measurement.
        var after = Write("after.json", """{"step_ms": {"1": 25.0, "8": 80.0}}""");
        var other = Write("other.json", """{"prefill_512_tok_s": 10.0, "step_ms": {"1": 100.0, "8": 800.0}}""");

        var ceilings = VersusReport.ByLabel([$"m={before}", $"m={after}", $"x=y={other}"], VersusReport.Ceiling.FromBatchCeiling);

        Assert.Equal(["m", "x=y"], ceilings.Keys.Order());
        // 1 sequence: 20 and 40 tok/s; 8: 50 and 100; prefill only from the file that has it.
        Assert.Equal(new VersusReport.Ceiling(30, 75, 200), ceilings["m"]);
        Assert.Equal(new VersusReport.Ceiling(10, 10, 10), ceilings["x=y"]);
    }

    [Fact]
    public void The_all_decoding_rate_counts_tokens_between_the_last_first_token_and_the_first_finish()
    {
        // Stream a: first token at 100 ms, then one every 10 ms up to 200 (finish at 200).
        // Stream b: first token at 130 ms (the window opens), one every 20 ms, finish at 250.
        // The window is (130, 200]: a's tokens at 140..200 (7) and b's at 150, 170, 190 (3): 10 tokens in 70 ms.
        var a = new RequestResult { Index = 0, TtftMs = 100, InterTokenMs = Enumerable.Repeat(10.0, 10).ToList(), FinishMs = 200 };
        var b = new RequestResult { Index = 1, TtftMs = 130, InterTokenMs = Enumerable.Repeat(20.0, 6).ToList(), FinishMs = 250 };
        Assert.Equal(10 / 0.070, VersusRunner.AllDecodingRate([a, b]), 6);

        // b starts after a finished: never all at once.
        var late = b with { TtftMs = 210, FinishMs = 330 };
        Assert.True(double.IsNaN(VersusRunner.AllDecodingRate([a, late])));
    }

    [Fact]
    public void Text_difference_points_at_where_the_outputs_part()
    {
        Assert.Equal("same text", TextDifference.Describe("abc", "abc"));
        Assert.Equal("texts part at character 3: ours \"abcX\" vs llama-server \"abcY\"", TextDifference.Describe("abcX", "abcY"));
        Assert.Equal("texts part at character 30: ours \"…789012345678901234567890\" vs llama-server \"…789012345678901234567890more\"",
            TextDifference.Describe(new string('-', 6) + "789012345678901234567890", new string('-', 6) + "789012345678901234567890more"));
    }

    [Theory]
    [InlineData("VmRSS:\t  123456 kB", 123456L)]
    [InlineData("VmHWM:\t  999 kB", null)]
    [InlineData("VmRSS:", null)]
    public void Rss_is_read_from_the_status_line(string line, long? expected) =>
        Assert.Equal(expected, ProcessMemory.ParseVmRssKib(line));

    [Fact]
    public void Rss_of_this_process_is_positive_and_of_a_missing_process_null()
    {
        Assert.InRange(ProcessMemory.RssMib(Environment.ProcessId)!.Value, 1, 1 << 20);
        Assert.Null(ProcessMemory.RssMib(int.MaxValue));
    }
}

/// <summary>The openai-completions client against the real server and a real model.</summary>
[Collection("server")]
public sealed class CompletionClientTests(SharedServer server)
{
    [Fact]
    public async Task The_streamed_text_and_counts_match_the_servers_unstreamed_answer()
    {
        var options = new LoadOptions { Url = server.BaseUrl, Model = "stories", Api = ApiKind.OpenAICompletions, OutputTokens = 24, TimeoutSeconds = 60 };
        using var http = GenerateClient.CreateHttpClient(options);

        var r = await new GenerateClient(http, options).RunAsync(0, "Once upon a time", CancellationToken.None);

        Assert.True(r.Ok, r.Error);
        Assert.Equal(24, r.EvalCount);
        var (status, whole) = await server.PostAsync("/v1/completions", new { model = "stories", prompt = "Once upon a time", max_tokens = 24, temperature = 0 });
        Assert.Equal(200, status);
        Assert.Equal((string)whole!["choices"]![0]!["text"]!, r.Text);
        Assert.Equal((int)whole["usage"]!["prompt_tokens"]!, r.PromptEvalCount);
        Assert.True(r.FinishMs >= r.TtftMs, $"finish {r.FinishMs} before the first token {r.TtftMs}");
    }

    [Theory]
    [InlineData(false, "{\"model\":\"bench\",\"response\":\"Once upon\",\"done\":true,\"prompt_eval_count\":7,\"eval_count\":2}")]
    [InlineData(true, "{\"content\":\"Once upon\",\"tokens_predicted\":2,\"tokens_evaluated\":7,\"stop\":true}")]
    public void A_whole_response_gives_text_and_token_counts_from_either_server(bool llamaServer, string json)
    {
        var r = WholeResponseClient.Parse(4, 200, json, llamaServer, totalMs: 120);
        Assert.True(r.Ok, r.Error);
        Assert.Equal(("Once upon", 2, 7, 4), (r.Text, r.EvalCount, r.PromptEvalCount, r.Index));
        // The first token is known only with the whole answer.
        Assert.Equal((120.0, 120.0), (r.TtftMs!.Value, r.FinishMs!.Value));
    }

    [Fact]
    public void Whole_response_runs_are_off_unless_given_tokens()
    {
        var o = VersusOptions.Parse(["--ours", "http://a", "--theirs", "http://b"]);
        Assert.Equal((8, 0), (o.WholeRequests, o.WholeTokens));
        o = VersusOptions.Parse(["--ours", "http://a", "--theirs", "http://b", "--whole-requests", "4", "--whole-tokens", "160"]);
        Assert.Equal((4, 160), (o.WholeRequests, o.WholeTokens));
        Assert.Throws<ArgumentException>(() => VersusOptions.Parse(["--ours", "http://a", "--theirs", "http://b", "--whole-tokens", "-1"]));
    }
}
