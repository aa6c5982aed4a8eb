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
    private readonly Side _ours = new("ours", o.Ours, o.OursPid, o);
    private readonly Side _theirs = new("llama-server", o.Theirs, o.TheirsPid, o);
    private TokenPrompts _prompts = new(null);

    public async Task<VersusResult> RunAsync(CancellationToken ct)
    {
        using var tokenizer = o.TokenizeUrl is null ? null : new HttpClient { BaseAddress = new Uri(o.TokenizeUrl + "/") };
        _prompts = new TokenPrompts(tokenizer);
        try
        {
            foreach (var side in new[] { _ours, _theirs })
                Require(await side.Client(4).RunAsync(-1, "warm up", ct), side, "warm-up");
            Single("RSS after load", "MiB", higherIsBetter: false, ProcessMemory.RssMib(o.OursPid), ProcessMemory.RssMib(o.TheirsPid));

            await DecodeAsync(ct);
            await PrefillAsync(ct);
            await CachedPrefixAsync(ct);
            await ConcurrentAsync($"{o.Arrivals} simultaneous arrivals", o.Arrivals, 2_000, ct, rssAfter: true);
            await ConcurrentAsync($"{o.Streams} simultaneous streams", o.Streams, 3_000, ct, rssAfter: false);
            await SequentialAsync(ct);
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
        await PairsAsync("single stream", async (side, pair) =>
        {
            var r = Require(await side.Client(o.DecodeTokens).RunAsync(pair, Words(1_000 + pair, o.PromptWords), ct), side, "decode");
            Add(decode, side, (r.EvalCount - 1) / ((r.FinishMs!.Value - r.TtftMs!.Value) / 1000));
            Add(ttft, side, r.TtftMs.Value);
            return [r];
        });
    }

    private async Task PrefillAsync(CancellationToken ct)
    {
        var prefill = Metric($"prefill ({o.PrefillTokens}-token prompt)", "tok/s", true);
        var prompts = new List<string>();
        for (var pair = 0; pair < o.Pairs; pair++)
            prompts.Add(await _prompts.CutAsync(Words(2_000 + pair, o.PrefillTokens), o.PrefillTokens, ct));
        await PairsAsync("prefill", async (side, pair) =>
        {
            var r = Require(await side.Client(1).RunAsync(pair, prompts[pair], ct), side, "prefill");
            Add(prefill, side, r.PromptEvalCount / (r.TtftMs!.Value / 1000));
            return [r];
        });
    }

    /// <summary>A prefix is evaluated once on each server (a first request), then each pair sends it with new tokens.</summary>
    private async Task CachedPrefixAsync(CancellationToken ct)
    {
        var ttft = Metric($"cached-prefix TTFT ({o.PrefixTokens} cached + {o.SuffixTokens} new tokens)", "ms", false);
        var prefix = await _prompts.CutAsync(Words(3_000, o.PrefixTokens), o.PrefixTokens, ct);
        var suffixes = new List<string>();
        for (var pair = 0; pair <= o.Pairs; pair++)
            suffixes.Add(" " + Words(3_100 + pair, o.SuffixTokens)); // about one token a word; usage reports the exact count
        foreach (var side in new[] { _ours, _theirs })
            Require(await side.Client(1).RunAsync(-1, prefix + suffixes[o.Pairs], ct), side, "prefix priming");
        await PairsAsync("cached prefix", async (side, pair) =>
        {
            var r = Require(await side.Client(1).RunAsync(pair, prefix + suffixes[pair], ct), side, "cached prefix");
            Add(ttft, side, r.TtftMs!.Value);
            return [r];
        });
    }

    private async Task ConcurrentAsync(string name, int count, int seedBase, CancellationToken ct, bool rssAfter)
    {
        var aggregate = Metric($"{name} x {o.StreamTokens} tokens: aggregate", "tok/s", true, rssAfter ? MetricKeys.ArrivalsAggregate : "");
        var p50 = Metric($"{name}: TTFT p50", "ms", false);
        var max = Metric($"{name}: TTFT max", "ms", false);
        await PairsAsync(name, async (side, pair) =>
        {
            var client = side.Client(o.StreamTokens);
            var sw = Stopwatch.StartNew();
            var results = await Task.WhenAll(Enumerable.Range(0, count)
                .Select(i => client.RunAsync(i, Words(seedBase + pair * count + i, o.PromptWords), ct)));
            var wall = sw.Elapsed.TotalSeconds;
            foreach (var r in results) Require(r, side, name);
            Add(aggregate, side, results.Sum(r => r.EvalCount) / wall);
            var ttfts = results.Select(r => r.TtftMs!.Value).ToList();
            Add(p50, side, Stats.Percentile(ttfts, 50));
            Add(max, side, ttfts.Max());
            return results;
        });
        if (rssAfter)
            Single($"RSS after the {count}-stream run", "MiB", higherIsBetter: false, ProcessMemory.RssMib(o.OursPid), ProcessMemory.RssMib(o.TheirsPid));
    }

    private async Task SequentialAsync(CancellationToken ct)
    {
        var aggregate = Metric($"{o.Sequential} requests one at a time x {o.StreamTokens} tokens", "tok/s", true);
        await PairsAsync("one at a time", async (side, pair) =>
        {
            var client = side.Client(o.StreamTokens);
            var sw = Stopwatch.StartNew();
            var results = new List<RequestResult>();
            for (var i = 0; i < o.Sequential; i++)
                results.Add(Require(await client.RunAsync(i, Words(4_000 + pair * o.Sequential + i, o.PromptWords), ct), side, "one at a time"));
            Add(aggregate, side, results.Sum(r => r.EvalCount) / sw.Elapsed.TotalSeconds);
            return results;
        });
    }

    /// <summary>Runs <paramref name="run"/> once per server per pair, alternating who goes first, and compares the outputs.</summary>
    private async Task PairsAsync(string scenario, Func<Side, int, Task<IReadOnlyList<RequestResult>>> run)
    {
        var check = new VersusCheck { Scenario = scenario };
        int compared = 0, sameText = 0, sameTokens = 0, samePrompt = 0;
        string? firstDifference = null;
        for (var pair = 0; pair < o.Pairs; pair++)
        {
            var order = pair % 2 == 0 ? new[] { _ours, _theirs } : [_theirs, _ours];
            var outputs = new Dictionary<Side, IReadOnlyList<RequestResult>>();
            foreach (var side in order) outputs[side] = await run(side, pair);
            log($"  {o.Label} / {scenario}: pair {pair + 1}/{o.Pairs} done");
            foreach (var (a, b) in outputs[_ours].Zip(outputs[_theirs]))
            {
                compared++;
                if (a.Text == b.Text) sameText++;
                if (a.EvalCount == b.EvalCount) sameTokens++;
                if (a.PromptEvalCount == b.PromptEvalCount) samePrompt++;
                if (firstDifference is null && (a.Text != b.Text || a.EvalCount != b.EvalCount || a.PromptEvalCount != b.PromptEvalCount))
                    firstDifference = $"pair {pair + 1} request {a.Index}: ours {a.PromptEvalCount}+{a.EvalCount} tokens \"{Clip(a.Text)}\" vs llama-server {b.PromptEvalCount}+{b.EvalCount} tokens \"{Clip(b.Text)}\"";
            }
        }
        _result.Checks.Add(check with { Compared = compared, SameText = sameText, SameTokenCounts = sameTokens, SamePromptTokens = samePrompt, FirstDifference = firstDifference });
    }

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

    private void Add(VersusMetric m, Side side, double value) => (side == _ours ? m.Ours : m.Theirs).Add(value);

    private string Words(int index, int words) => new PromptMix(index, words, 0, 0).Build(index);

    private static RequestResult Require(RequestResult r, Side side, string what) =>
        r.Ok && r.TtftMs is not null && r.FinishMs is not null ? r
            : throw new RunFailedException($"{side.Name} {what} request {r.Index}: {r.Error ?? "no token arrived"}");

    private static string Clip(string? s) => s is null ? "" : s.Length <= 80 ? s : s[..80] + "…";

    private sealed class RunFailedException(string message) : Exception(message);

    /// <summary>One server: its HTTP client and a request client per output length.</summary>
    private sealed class Side(string name, string url, int? pid, VersusOptions o)
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
    }
}
