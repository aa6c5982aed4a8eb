using System.Globalization;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.WebConsole;

/// <summary>
/// The dashboard page against the real server: its charts follow a load of concurrent generations
/// and settle when it ends, its panels show what /metrics, /api/ps and /services/status say, and
/// its Prometheus parsing and percentile math give known answers in the browser itself.
/// </summary>
[Collection(ConsoleBrowser.Collection)]
public sealed class DashboardPageTests(ConsoleBrowser browser, TestServer server) : IClassFixture<TestServer>
{
    private const string Stories = "stories:latest";
    private const int Workers = 4;

    [Fact]
    public async Task Charts_follow_a_load_and_return_to_idle_when_it_ends()
    {
        browser.Desktop();
        browser.Open(server.BaseUrl, "dashboard");
        browser.Wait(_ => Text("#dash-status").StartsWith("Updated"));

        using var stop = new CancellationTokenSource();
        var requests = new int[Workers];
        var load = Enumerable.Range(0, Workers).Select(w => Task.Run(() => GenerateUntilAsync(w, requests, stop.Token))).ToArray();
        try
        {
            // Two scrapes during the load: a rate above zero and sequences running.
            browser.Wait(_ => Latest("#dash-tokens") > 0 && Latest("#dash-sequences .dash-legend [data-series=active]") > 0, 90);
            var path = PathOf("#dash-tokens");
            // The next scrape redraws the line: it moved one slot left and gained a point, joined to the last.
            browser.Wait(_ => PathOf("#dash-tokens") != path, 30);
            Assert.Contains("L", PathOf("#dash-tokens"));
            // Every request has a first token, so each interval with requests has TTFT percentiles, p50 ≤ p95.
            browser.Wait(_ => Latest("#dash-ttft .dash-legend [data-series=p50]") > 0 && Latest("#dash-inter-token .dash-legend [data-series=p50]") > 0, 30);
            Assert.True(Latest("#dash-ttft .dash-legend [data-series=p50]") <= Latest("#dash-ttft .dash-legend [data-series=p95]"));
            Assert.True(Latest("#dash-inter-token .dash-legend [data-series=p50]") <= Latest("#dash-inter-token .dash-legend [data-series=p95]"));
            // Each request's prompt is evaluated or reused from the prefix cache: one of the two rates moves.
            browser.Wait(_ => Latest("#dash-prompt .dash-legend [data-series=evaluated]") + Latest("#dash-prompt .dash-legend [data-series='reused from cache']") > 0, 30);

            // Batch bars account for every decode step of the window, and the steps happened.
            var steps = Number(Attribute("#dash-batch [data-steps]", "data-steps"));
            Assert.True(steps > 0);
            Assert.Equal(steps, Convert.ToDouble(browser.Script(
                "return [...document.querySelectorAll('#dash-batch [data-bar]')].reduce((sum, bar) => sum + Number(bar.dataset.value), 0)")));

            // Memory: the loaded model with exactly the bytes /api/ps reports, and its KV-cache line.
            var ps = await server.GetJsonAsync("/api/ps");
            var size = (double)ps["models"]!.AsArray().Single(m => (string?)m!["name"] == Stories)!["size"]!;
            Assert.Equal(size, Number(Attribute($"#dash-memory [data-model='{Stories}']", "data-bytes")));
            Assert.Single(browser.FindAll($"#dash-kv .dash-legend [data-series='{Stories}']"));
            browser.Screenshot("dashboard-load");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }
        Assert.All(requests, count => Assert.True(count > 0));

        // Idle again: the server has no active sequence, and the page's next scrapes say so.
        Assert.Equal(0, await PrometheusText.ScrapeAsync(server.Client, $"inference_active_sequences{{model=\"{Stories}\"}}"));
        browser.Wait(_ => Latest("#dash-sequences .dash-legend [data-series=active]") == 0 && Latest("#dash-tokens") == 0, 30);
        Assert.Equal(0, Latest("#dash-sequences .dash-legend [data-series=queued]"));

        browser.Phone();
        browser.Wait(_ => Text("#dash-status").StartsWith("Updated"));
        var overflow = Convert.ToInt64(browser.Script("return document.documentElement.scrollWidth - window.innerWidth"));
        Assert.True(overflow <= 0, $"the dashboard is {overflow} px wider than a phone");
        browser.Screenshot("dashboard-phone");
        browser.Desktop();
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public async Task Services_panel_lists_the_components_services_status_returns()
    {
        var (status, _) = await server.PostAsync("/api/generate", new { model = "stories" }); // loaded: a model component too
        Assert.Equal(200, status);
        browser.Desktop();
        browser.Open(server.BaseUrl, "dashboard");
        browser.WaitFor("#dash-services tr[data-service]");

        var expected = (await server.GetJsonAsync("/services/status")).AsArray()
            .Select(s => $"{s!["name"]}={s["status"]}").ToList();
        var shown = browser.FindAll("#dash-services tr[data-service]")
            .Select(row => $"{row.GetDomAttribute("data-service")}={row.GetDomAttribute("data-status")}").ToList();
        Assert.Equal(expected, shown);
        Assert.Contains($"model {Stories}=up", shown);
        Assert.Contains("inference engine=up", shown);
        browser.Screenshot("dashboard-services");
        Assert.Empty(browser.PageErrors());
    }

    /// <summary>The page's own functions, run in the browser on inputs whose answers are worked out by hand.</summary>
    [Fact]
    public void Prometheus_parsing_and_percentiles_give_known_answers()
    {
        browser.Open(server.BaseUrl, "dashboard");
        var json = (string)browser.Script("""
            return Promise.all([import('/ui/pages/dashboard/prometheus.js'), import('/ui/pages/dashboard.js'), import('/ui/pages/dashboard/charts.js')])
              .then(([p, page, charts]) => {
                const text = [
                  '# HELP x_total A counter.', '# TYPE x_total counter',
                  'x_total{model="a:latest"} 100', 'x_total{model="b:latest"} 50 1700000000000',
                  'odd{v="say \\"hi\\", }x"} 1', 'not a sample', 'nan_gauge NaN', 'inf_gauge +Inf',
                ].join('\n');
                const samples = p.parsePrometheus(text);
                const before = [[0.1, 2], [0.2, 4], [0.4, 4], [Infinity, 4]].map(([le, count]) => ({ le, count }));
                const now = [[0.1, 2], [0.2, 8], [0.4, 12], [Infinity, 12]].map(([le, count]) => ({ le, count }));
                const delta = p.histogramDelta(now, before);
                const scraped = p.histogram(p.parsePrometheus(
                  'h_bucket{model="a",le="1"} 1\nh_bucket{model="b",le="1"} 2\nh_bucket{model="a",le="+Inf"} 3\nh_bucket{model="b",le="+Inf"} 2\nh_sum 9'), 'h');
                const history = new page.History(3);
                history.push({ a: 1 }); history.push({ a: 2, b: 5 }); history.push({ a: 3, b: null }); history.push({ a: 4 });
                return JSON.stringify({
                  names: samples.map(s => s.name),
                  odd: samples.find(s => s.name === 'odd').labels.v,
                  nan: samples.find(s => s.name === 'nan_gauge').value,
                  inf: samples.find(s => s.name === 'inf_gauge').value === Infinity,
                  total: p.total(samples, 'x_total'),
                  onlyB: p.total(samples, 'x_total', { model: 'b:latest' }),
                  byModel: p.byLabel(samples, 'x_total', 'model'),
                  delta: delta.map(b => b.count),
                  p50: p.quantile(delta, 0.5), p95: p.quantile(delta, 0.95),
                  beyondLastBound: p.quantile([{ le: 1, count: 0 }, { le: 2, count: 0 }, { le: Infinity, count: 5 }], 0.5),
                  empty: p.quantile(p.histogramDelta(before, before), 0.5),
                  restarted: p.histogramDelta(before, now),
                  scraped: scraped.map(b => [String(b.le), b.count]),
                  perBucket: p.perBucket(now).map(b => b.count),
                  rate: p.rate(150, 100, 2), reset: p.rate(10, 100, 2),
                  labels: page.bucketLabels([1, 2, 3, 4, 6, 8, 12, 64, Infinity].map(le => ({ le, count: 0 }))),
                  nice: [0, 0.7, 1.3, 7, 230, 1000].map(charts.niceCeiling),
                  history: history.series(),
                });
              });
            """)!;
        var r = JsonNode.Parse(json)!;
        Assert.Equal(["x_total", "x_total", "odd", "nan_gauge", "inf_gauge"], Strings(r["names"]));
        Assert.Equal("say \"hi\", }x", (string?)r["odd"]);
        Assert.Null(r["nan"]); // JSON has no NaN: it serializes as null
        Assert.True((bool)r["inf"]!);
        Assert.Equal(150, (double)r["total"]!);
        Assert.Equal(50, (double)r["onlyB"]!);
        Assert.Equal(100, (double)r["byModel"]!["a:latest"]!);
        Assert.Equal(50, (double)r["byModel"]!["b:latest"]!);
        Assert.Equal([0, 4, 8, 8], Numbers(r["delta"]));
        // 8 new observations: rank 4 ends bucket (0.1, 0.2] → 0.2; rank 7.6 is 3.6 of 4 into (0.2, 0.4] → 0.38.
        Assert.Equal(0.2, (double)r["p50"]!, 9);
        Assert.Equal(0.38, (double)r["p95"]!, 9);
        Assert.Equal(2, (double)r["beyondLastBound"]!); // as histogram_quantile: the highest finite bound
        Assert.Null(r["empty"]);
        Assert.Null(r["restarted"]);
        Assert.Equal(["1:3", "Infinity:5"], r["scraped"]!.AsArray().Select(b => $"{b![0]}:{b[1]}").ToList());
        Assert.Equal([2, 6, 4, 0], Numbers(r["perBucket"]));
        Assert.Equal(25, (double)r["rate"]!);
        Assert.Null(r["reset"]);
        Assert.Equal(["1", "2", "3", "4", "5–6", "7–8", "9–12", "13–64", ">64"], Strings(r["labels"]));
        Assert.Equal([1, 1, 2, 10, 250, 1000], Numbers(r["nice"]));
        // Capacity 3: "a" keeps its last three values; "b" appeared second (a gap before it) and stays while it has a value in view.
        var history = r["history"]!.AsArray();
        Assert.Equal(["a", "b"], history.Select(s => (string)s!["label"]!).ToList());
        Assert.Equal("[2,3,4]", history[0]!["values"]!.ToJsonString());
        Assert.Equal("[5,null,null]", history[1]!["values"]!.ToJsonString());
        browser.Screenshot("dashboard-idle");
        Assert.Empty(browser.PageErrors());
    }

    /// <summary>One client's loop of short generations until told to stop; each request runs to its end.</summary>
    private async Task GenerateUntilAsync(int worker, int[] requests, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var (status, body) = await server.PostAsync("/api/generate", new
            {
                model = "stories", prompt = $"Once upon a time, worker {worker}", stream = false,
                options = new { num_predict = 48, num_ctx = 512, seed = requests[worker] },
            });
            Assert.Equal(200, status);
            Assert.Equal(48, (int)body!["eval_count"]!);
            requests[worker]++;
        }
    }

    private string Text(string css) => browser.Find(css).Text;

    private string Attribute(string css, string name) => browser.Find(css).GetDomAttribute(name) ?? "";

    /// <summary>A card's or legend entry's data-latest: the newest point of its series (NaN when it has none).</summary>
    private double Latest(string css) => browser.FindAll(css) is [var element, ..]
        ? Number(element.GetDomAttribute("data-latest") ?? "")
        : double.NaN;

    private string PathOf(string card) => browser.Find($"{card} path").GetDomAttribute("d") ?? "";

    private static double Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : double.NaN;

    private static List<string> Strings(JsonNode? array) => array!.AsArray().Select(n => (string)n!).ToList();

    private static List<double> Numbers(JsonNode? array) => array!.AsArray().Select(n => (double)n!).ToList();
}
