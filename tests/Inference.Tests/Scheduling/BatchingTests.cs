using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Scheduling;

/// <summary>Continuous batching observed from outside: same outputs as alone, more than one sequence per decode step.</summary>
[Collection("server")]
public sealed class BatchingTests(SharedServer server)
{
    private const string Model = "model=\"stories:latest\"";

    private static object Request(int i) => new
    {
        model = "stories",
        prompt = i % 2 == 0 ? "Once upon a time, a little bird" : "Tom and Sue went to the shop",
        options = new { temperature = 0.8, seed = 100 + i, num_predict = 96, num_ctx = 2048 },
    };

    private static string Text(List<JsonNode> lines) => string.Concat(lines.Select(l => (string)l["response"]!));

    [Fact]
    public async Task Concurrent_streams_are_decoded_in_one_batch_and_match_their_solo_outputs()
    {
        const int n = 4;
        var alone = new List<string>();
        for (int i = 0; i < n; i++) alone.Add(Text(await server.StreamAsync("/api/generate", Request(i))));

        double batchedBefore = await BatchedSteps();
        var together = await Task.WhenAll(Enumerable.Range(0, n).Select(i => server.StreamAsync("/api/generate", Request(i))));

        for (int i = 0; i < n; i++)
        {
            Assert.Equal(alone[i], Text(together[i]));
            Assert.Equal(96, (int)together[i][^1]["eval_count"]!);
        }
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.True(PrometheusText.Value(metrics, $"inference_max_batch_sequences{{{Model}}}") >= 2);
        // Steps that decoded two or more sequences at once happened during the concurrent run.
        Assert.True(await BatchedSteps() - batchedBefore > 50, "most of the 96 steps should decode several sequences");
    }

    /// <summary>Decode steps with two or more sequences so far (total minus the le="1" bucket).</summary>
    private async Task<double> BatchedSteps()
    {
        var metrics = await server.Client.GetStringAsync("/metrics");
        return PrometheusText.Value(metrics, $"inference_batch_sequences_count{{{Model}}}")
             - PrometheusText.Value(metrics, $"inference_batch_sequences_bucket{{{Model},le=\"1\"}}");
    }

    [Fact]
    public async Task A_disconnected_stream_leaves_while_the_others_continue()
    {
        // Random weights (tiny) almost never sample EOS: this stream runs until its client leaves.
        var longRequest = new { model = "tiny", prompt = "The sun", options = new { num_predict = -1, num_ctx = 32768 } };
        const string tiny = "model=\"tiny:latest\"";
        double cancelledBefore = await PrometheusText.ScrapeAsync(server.Client, $"inference_sequences_cancelled_total{{{tiny}}}");
        var survivor = server.StreamAsync("/api/generate", new { model = "tiny", prompt = "A frog", options = new { temperature = 0, num_predict = 300, num_ctx = 32768 } });

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = TestServer.JsonContent(longRequest) })
        {
            using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            for (int i = 0; i < 5; i++) Assert.NotNull(await reader.ReadLineAsync());
        }

        var lines = await survivor;
        Assert.Equal(300, (int)lines[^1]["eval_count"]!);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline &&
               await PrometheusText.ScrapeAsync(server.Client, $"inference_sequences_cancelled_total{{{tiny}}}") <= cancelledBefore)
            await Task.Delay(50);
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Equal(cancelledBefore + 1, PrometheusText.Value(metrics, $"inference_sequences_cancelled_total{{{tiny}}}"));
        Assert.Equal(0, PrometheusText.Value(metrics, $"inference_active_sequences{{{tiny}}}"));
    }
}
