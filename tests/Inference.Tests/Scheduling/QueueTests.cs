using Inference.Tests.Support;

namespace Inference.Tests.Scheduling;

/// <summary>A server with one sequence and a queue of one: the third concurrent request is refused.</summary>
public sealed class SingleSlotServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:NumParallel=1", "--Inference:MaxQueue=1"];
}

public sealed class QueueTests(SingleSlotServer server) : IClassFixture<SingleSlotServer>
{
    [Fact]
    public async Task Requests_beyond_the_queue_get_503_with_a_json_error()
    {
        // Random weights almost never sample EOS, and the context is large: this stream runs until cancelled.
        var busy = new { model = "tiny", prompt = "Once", options = new { num_predict = -1, num_ctx = 32768 } };
        using var first = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = TestServer.JsonContent(busy) };
        using var running = await server.Client.SendAsync(first, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await running.Content.ReadAsStreamAsync());
        Assert.NotNull(await reader.ReadLineAsync()); // the only sequence is now generating

        var queued = server.PostAsync("/api/generate", new { model = "tiny", prompt = "Twice", stream = false, options = new { num_predict = 4, num_ctx = 32768 } });
        // Wait until it really sits in the queue.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline &&
               await PrometheusText.ScrapeAsync(server.Client, "inference_queued_requests{model=\"tiny:latest\"}") < 1)
            await Task.Delay(25);
        var (status, body) = await server.PostAsync("/api/generate", new { model = "tiny", prompt = "Thrice", stream = false, options = new { num_predict = 4, num_ctx = 32768 } });

        Assert.Equal(503, status);
        Assert.Equal("server busy, please try again: maximum pending requests exceeded", (string)body!["error"]!);
        running.Dispose(); // free the sequence: the queued request then runs
        var (queuedStatus, queuedBody) = await queued;
        Assert.Equal(200, queuedStatus);
        Assert.Equal(4, (int)queuedBody!["eval_count"]!);
    }
}
