using System.Diagnostics;

namespace Inference.LoadTool;

/// <summary>
/// The side-by-side comparison: each scenario runs in pairs, one run on each server per pair, the
/// server going first alternating from pair to pair (so warm caches and a CPU that heats up favour
/// neither), and every request's text and token counts are compared between the two servers.
/// Scenarios run one after the other (all pairs of one, then the next), so a cache primed for a
/// scenario is only disturbed by the other server's run of the same scenario.
/// </summary>
public sealed class VersusRunner(VersusOptions o, Action<string> log)
{
    private readonly VersusResult _result = new() { Label = o.Label, Settings = o.Settings, Pairs = o.Pairs };
    private readonly Side _ours = new("ours", o.Ours, o.OursPid, o, llamaServer: false);
    private readonly Side _theirs = new("llama-server", o.Theirs, o.TheirsPid, o, llamaServer: true);
    private TokenPrompts _prompts = new(null);

    public async Task<VersusResult> RunAsync(CancellationToken ct)
    {
        using var tokenizer = o.TokenizeUrl is null ? null : new HttpClient { BaseAddress = new Uri(o.TokenizeUrl + "/") };
        _prompts = new TokenPrompts(tokenizer);
        try
        {
            foreach (var side in new[] { _ours, _theirs })
                Require(await side.Client(16).RunAsync(-1, "warm up the server", ct), side, "warm-up");
            Single("RSS after load", "MiB", higherIsBetter: false, ProcessMemory.RssMib(o.OursPid), ProcessMemory.RssMib(o.TheirsPid));

            await DecodeAsync(ct);
            await PrefillAsync(ct);
            await CachedPrefixAsync(ct);
            await ConcurrentAsync($"{o.Arrivals} simultaneous arrivals", o.Arrivals, 2_000, ct, rssAfter: true);
            await ConcurrentAsync($"{o.Streams} simultaneous streams", o.Streams, 3_000, ct, rssAfter: false);
            await SequentialAsync(ct);
            if (o.WholeTokens > 0)
            {
                await WholeResponsesAsync(together: false, ct);
                await WholeResponsesAsync(together: true, ct);
            }
        }
        catch (RunFailedException e)
        {
            _result.Errors.Add(e.Message);
            log("FAILED: " + e.Message);
        }
        return _result;
    }

    private async Task DecodeAsync(CancellationToken ct)
    {
        var decode = Metric($"single-stream decode ({o.DecodeTokens} tokens)", "tok/s", true, MetricKeys.Decode);
        var ttft = Metric($"cold TTFT ({o.PromptWords}-word prompt)", "ms", false);
        await PairsAsync("single stream", async (side, seed) =>
        {
            var r = Require(await side.Client(o.DecodeTokens).RunAsync(0, Words(1_000 + seed, o.PromptWords), ct), side, "decode");
            return new([r], [(decode, (r.EvalCount - 1) / ((r.FinishMs!.Value - r.TtftMs!.Value) / 1000)), (ttft, r.TtftMs.Value)]);
        });
    }

    private async Task PrefillAsync(CancellationToken ct)
    {
        var prefill = Metric($"prefill ({o.PrefillTokens}-token prompt)", "tok/s", true, MetricKeys.Prefill);
        var prompts = new Dictionary<int, string>();
        await PairsAsync("prefill", async (side, seed) =>
        {
            if (!prompts.TryGetValue(seed, out var prompt))
                prompts[seed] = prompt = await _prompts.CutAsync(Words(2_000 + seed, o.PrefillTokens), o.PrefillTokens, ct);
            var r = Require(await side.Client(1).RunAsync(0, prompt, ct), side, "prefill");
            return new([r], [(prefill, r.PromptEvalCount / (r.TtftMs!.Value / 1000))]);
        });
    }

    /// <summary>A prefix is evaluated once on each server (a first request), then each pair sends it with new tokens.</summary>
    private async Task CachedPrefixAsync(CancellationToken ct)
    {
        var ttft = Metric($"cached-prefix TTFT ({o.PrefixTokens} cached + {o.SuffixTokens} new tokens)", "ms", false);
        var prefix = await _prompts.CutAsync(Words(3_000, o.PrefixTokens), o.PrefixTokens, ct);
        // About one token a word; usage.prompt_tokens has the exact count.
        string Suffix(int seed) => " " + Words(3_100 + seed, o.SuffixTokens);
        foreach (var side in new[] { _ours, _theirs })
            Require(await side.Client(1).RunAsync(-1, prefix + Suffix(-1), ct), side, "prefix priming");
        await PairsAsync("cached prefix", async (side, seed) =>
        {
            var r = Require(await side.Client(1).RunAsync(0, prefix + Suffix(seed), ct), side, "cached prefix");
            return new([r], [(ttft, r.TtftMs!.Value)]);
        });
    }

    private async Task ConcurrentAsync(string name, int count, int seedBase, CancellationToken ct, bool rssAfter)
    {
        var aggregate = Metric($"{name} x {o.StreamTokens} tokens: aggregate", "tok/s", true, rssAfter ? MetricKeys.ArrivalsAggregate : "");
        var p50 = Metric($"{name}: TTFT p50", "ms", false);
        var max = Metric($"{name}: TTFT max", "ms", false);
        var allDecoding = Metric($"{name}: decode while all {count} stream", "tok/s", true, rssAfter ? MetricKeys.ArrivalsAllDecoding : "");
        await PairsAsync(name, async (side, seed) =>
        {
            var client = side.Client(o.StreamTokens);
            var sw = Stopwatch.StartNew();
            var results = await Task.WhenAll(Enumerable.Range(0, count)
                .Select(i => client.RunAsync(i, Words(seedBase + seed * count + i, o.PromptWords), ct)));
            var wall = sw.Elapsed.TotalSeconds;
            foreach (var r in results) Require(r, side, name);
            var ttfts = results.Select(r => r.TtftMs!.Value).ToList();
            return new(results, [(aggregate, results.Sum(r => r.EvalCount) / wall), (p50, Stats.Percentile(ttfts, 50)), (max, ttfts.Max()),
                (allDecoding, AllDecodingRate(results))]);
        });
        if (rssAfter)
            Single($"RSS after the {count}-stream run", "MiB", higherIsBetter: false, ProcessMemory.RssMib(o.OursPid), ProcessMemory.RssMib(o.TheirsPid));
    }

    /// <summary>
    /// Tokens/s of all streams together while every one of them decodes (from the last first token to the first
    /// finish): what the bare-decode ceiling of that many sequences measures, without the prompts' prefill that
    /// the wall-time aggregate includes. The requests were sent together, so their times share an origin.
    /// NaN when the streams never all decode at once.
    /// </summary>
    public static double AllDecodingRate(IReadOnlyList<RequestResult> results)
    {
        double from = results.Max(r => r.TtftMs!.Value), to = results.Min(r => r.FinishMs!.Value);
        if (to <= from) return double.NaN;
        var tokens = 0;
        foreach (var r in results)
        {
            var at = r.TtftMs!.Value;
            foreach (var gap in r.InterTokenMs)
            {
                at += gap;
                if (at > from && at <= to) tokens++;
            }
        }
        return tokens / ((to - from) / 1000);
    }

    private async Task SequentialAsync(CancellationToken ct)
    {
        var aggregate = Metric($"{o.Sequential} requests one at a time x {o.StreamTokens} tokens", "tok/s", true);
        await PairsAsync("one at a time", async (side, seed) =>
        {
            var client = side.Client(o.StreamTokens);
            var sw = Stopwatch.StartNew();
            var results = new List<RequestResult>();
            for (var i = 0; i < o.Sequential; i++)
                results.Add(Require(await client.RunAsync(i, Words(4_000 + seed * o.Sequential + i, o.PromptWords), ct), side, "one at a time"));
            return new(results, [(aggregate, results.Sum(r => r.EvalCount) / sw.Elapsed.TotalSeconds)]);
        });
    }

    /// <summary>
    /// Non-streamed greedy requests (ours /api/generate, llama-server /completion), one after another or all sent at
    /// once: the wall time of all of them, where per-token overhead shows on a tiny model.
    /// </summary>
    private async Task WholeResponsesAsync(bool together, CancellationToken ct)
    {
        string name = $"{o.WholeRequests} non-streamed requests x {o.WholeTokens} tokens, " + (together ? "all at once" : "one after another");
        var wall = Metric(name + ": wall time", "ms", false);
        await PairsAsync(name, async (side, seed) =>
        {
            var client = side.WholeClient(o.WholeTokens);
            var prompts = Enumerable.Range(0, o.WholeRequests).Select(i => Words(5_000 + seed * o.WholeRequests + i, o.PromptWords)).ToList();
            var sw = Stopwatch.StartNew();
            var results = new List<RequestResult>();
            if (together) results.AddRange(await Task.WhenAll(prompts.Select((p, i) => client.RunAsync(i, p, ct))));
            else for (var i = 0; i < prompts.Count; i++) results.Add(await client.RunAsync(i, prompts[i], ct));
            var ms = sw.Elapsed.TotalMilliseconds;
            foreach (var r in results) Require(r, side, name);
            return new(results, [(wall, ms)]);
        });
    }

    /// <summary>What one server's run of a scenario produced: its requests (compared with the other server's) and its values.</summary>
    private sealed record Run(IReadOnlyList<RequestResult> Results, IReadOnlyList<(VersusMetric Metric, double Value)> Values);

    /// <summary>
    /// Runs <paramref name="run"/> once per server per pair, alternating who goes first, compares the outputs,
    /// and keeps the values of pairs that both servers completed. The run gets a prompt seed: a pair that
    /// llama-server fails because its own output is not valid UTF-8 (a random-weights model samples lone
    /// byte tokens; llama.cpp issue #27543, its chat parser rejects such text even on /v1/completions) is
    /// run again, on both servers, with the next seed, and counted.
    /// </summary>
    private async Task PairsAsync(string scenario, Func<Side, int, Task<Run>> run)
    {
        int compared = 0, sameText = 0, sameTokens = 0, samePrompt = 0, rerun = 0, resentOurs = 0, resentTheirs = 0;
        string? firstDifference = null;
        var seed = 0;
        for (var pair = 0; pair < o.Pairs; pair++, seed++)
        {
            var order = pair % 2 == 0 ? new[] { _ours, _theirs } : [_theirs, _ours];
            var outputs = new Dictionary<Side, Run>();
            try
            {
                foreach (var side in order) outputs[side] = await run(side, seed);
            }
            catch (RunFailedException e) when (e.Side == _theirs && e.Message.Contains(InvalidUtf8Error, StringComparison.Ordinal) && rerun < MaxReruns)
            {
                rerun++;
                pair--;
                log($"  {o.Label} / {scenario}: llama-server rejected its own output ({InvalidUtf8Error}); pair re-run with other prompts");
                continue;
            }
            resentOurs += outputs[_ours].Results.Count(r => r.Resent);
            resentTheirs += outputs[_theirs].Results.Count(r => r.Resent);
            foreach (var (metric, value) in outputs[_ours].Values) metric.Ours.Add(value);
            foreach (var (metric, value) in outputs[_theirs].Values) metric.Theirs.Add(value);
            log($"  {o.Label} / {scenario}: pair {pair + 1}/{o.Pairs} done");
            foreach (var (a, b) in outputs[_ours].Results.Zip(outputs[_theirs].Results))
            {
                compared++;
                if (a.Text == b.Text) sameText++;
                if (a.EvalCount == b.EvalCount) sameTokens++;
                if (a.PromptEvalCount == b.PromptEvalCount) samePrompt++;
                if (firstDifference is null && (a.Text != b.Text || a.EvalCount != b.EvalCount || a.PromptEvalCount != b.PromptEvalCount))
                    firstDifference = $"pair {pair + 1} request {a.Index}: ours {a.PromptEvalCount}+{a.EvalCount} tokens, llama-server {b.PromptEvalCount}+{b.EvalCount} tokens; {TextDifference.Describe(a.Text ?? "", b.Text ?? "")}";
            }
        }
        _result.Checks.Add(new VersusCheck
        {
            Scenario = scenario, Compared = compared, SameText = sameText, SameTokenCounts = sameTokens,
            SamePromptTokens = samePrompt, FirstDifference = firstDifference, RerunPairs = rerun,
            ResentOurs = resentOurs, ResentTheirs = resentTheirs,
        });
    }

    /// <summary>llama-server's message when its chat parser meets output that is not valid UTF-8.</summary>
    public const string InvalidUtf8Error = "does not match the expected Content-only format";
    private const int MaxReruns = 8;

    private VersusMetric Metric(string name, string unit, bool higherIsBetter, string key = "")
    {
        var m = new VersusMetric { Key = key, Name = name, Unit = unit, HigherIsBetter = higherIsBetter };
        _result.Metrics.Add(m);
        return m;
    }

    private void Single(string name, string unit, bool higherIsBetter, double? ours, double? theirs)
    {
        if (ours is null || theirs is null) return;
        var m = Metric(name, unit, higherIsBetter);
        m.Ours.Add(ours.Value);
        m.Theirs.Add(theirs.Value);
    }

    private string Words(int index, int words) => new PromptMix(index, words, 0, 0).Build(index);

    private static RequestResult Require(RequestResult r, Side side, string what) =>
        r.Ok && r.TtftMs is not null && r.FinishMs is not null ? r
            : throw new RunFailedException(side, $"{side.Name} {what} request {r.Index}: {r.Error ?? "no token arrived"}");

    private sealed class RunFailedException(Side side, string message) : Exception(message)
    {
        public Side Side => side;
    }

    /// <summary>One server: its HTTP client and a request client per output length.</summary>
    private sealed class Side(string name, string url, int? pid, VersusOptions o, bool llamaServer)
    {
        private readonly LoadOptions _base = new()
        {
            Url = url, Model = o.Model, Clients = Math.Max(o.Arrivals, o.Streams), Api = ApiKind.OpenAICompletions,
            Temperature = 0, TimeoutSeconds = o.TimeoutSeconds,
        };
        private HttpClient? _http;
        public string Name => name;
        public int? Pid => pid;

        public GenerateClient Client(int outputTokens)
        {
            _http ??= GenerateClient.CreateHttpClient(_base);
            return new GenerateClient(_http, _base with { OutputTokens = outputTokens });
        }

        /// <summary>A client of non-streamed requests: /api/generate on ours, /completion on llama-server.</summary>
        public WholeResponseClient WholeClient(int outputTokens)
        {
            _http ??= GenerateClient.CreateHttpClient(_base);
            return new WholeResponseClient(_http, llamaServer, o.Model, outputTokens, o.TimeoutSeconds);
        }
    }
}
