using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Deploy;

/// <summary>
/// inference_kv_cache_usage_ratio, the Gateway API Inference Extension's KVCacheUtilization: cells holding
/// tokens (running sequences and resident cached prefixes) over the cells allocated, which are
/// num_ctx x (parallel sequences + cached prefixes), one KV stream per sequence id.
/// </summary>
public sealed class KvCacheUsageMetricTests(KvCacheUsageMetricTests.Server server) : IClassFixture<KvCacheUsageMetricTests.Server>
{
    public sealed class Server : TestServer
    {
        protected override IEnumerable<string> Settings => ["--Inference:NumParallel=2", "--Inference:PrefixCacheSequences=2"];
    }

    private const int NumCtx = 256;
    private const double AllocatedCells = NumCtx * (2 + 2);

    private static string Sample(string model) => $"inference_kv_cache_usage_ratio{{model=\"{model}:latest\"}}";

    [Fact]
    public async Task The_gauge_is_zero_when_loaded_and_idle_then_counts_the_cached_prefix_exactly()
    {
        // Loaded, nothing run yet: the series exists and is 0.
        var (status, _) = await server.PostAsync("/api/generate", new { model = "stories", options = new { num_ctx = NumCtx } });
        Assert.Equal(200, status);
        var text = await server.Client.GetStringAsync("/metrics");
        Assert.Contains(Sample("stories") + " 0", text.Split('\n'));

        (status, var body) = await server.PostAsync("/api/generate", new
        {
            model = "stories", prompt = "Once upon a time", stream = false, options = new { num_ctx = NumCtx, num_predict = 5, temperature = 0 },
        });
        Assert.Equal(200, status);
        int prompt = (int)body!["prompt_eval_count"]!, generated = (int)body["eval_count"]!;
        Assert.Equal(5, generated);
        // Finished: its cells stay resident as a cached prefix: the prompt and every generated token
        // but the last, which was sampled and never decoded into the cache.
        double expected = (prompt + generated - 1) / AllocatedCells;
        Assert.Equal(expected, await PrometheusText.ScrapeAsync(server.Client, Sample("stories")), 9);

        // Unloaded: nothing resident.
        (status, _) = await server.PostAsync("/api/generate", new { model = "stories", keep_alive = 0 });
        Assert.Equal(200, status);
        Assert.Equal(0, await PrometheusText.ScrapeAsync(server.Client, Sample("stories")));
    }

    [Fact]
    public async Task The_gauge_is_above_zero_while_a_generation_runs()
    {
        const int numCtx = 2048;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate")
        {
            Content = TestServer.JsonContent(new { model = "tiny", prompt = "Hello there", options = new { num_ctx = numCtx, num_predict = 1500 } }),
        };
        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = JsonNode.Parse((await reader.ReadLineAsync())!)!;
        Assert.False((bool)first["done"]!);

        double running = await PrometheusText.ScrapeAsync(server.Client, Sample("tiny"));
        double active = await PrometheusText.ScrapeAsync(server.Client, "inference_active_sequences{model=\"tiny:latest\"}");
        Assert.Equal(1, active); // still running when scraped
        // At least the prompt's cells, at most one full stream of the four allocated.
        Assert.InRange(running, 2 / (numCtx * 4.0), 0.25);
    }
}
