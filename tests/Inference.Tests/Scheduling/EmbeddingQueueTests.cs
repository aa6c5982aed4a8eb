using System.Text.Json.Nodes;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Scheduling;
using Inference.Tests.Support;
using LLama.Native;

namespace Inference.Tests.Scheduling;

/// <summary>A server whose models queue at most two requests (OLLAMA_MAX_QUEUE=2).</summary>
public sealed class TwoQueueServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:MaxQueue=2"];
}

/// <summary>
/// Embeddings go through the model's embedding loop: queued in a bounded queue, dropped when the
/// client leaves before their turn, and batched across requests. The loop's decode is held at a
/// gate (the service's DecodeBatch seam) so a test knows what waits where.
/// </summary>
public sealed class EmbeddingQueueTests(TwoQueueServer server) : IClassFixture<TwoQueueServer>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Holds every embedding decode until released; counts the decodes that entered.</summary>
    private sealed class DecodeGate : IDisposable
    {
        private readonly EmbeddingService _service;
        private readonly Func<SafeLLamaContextHandle, LLamaBatch, DecodeResult> _real;
        private readonly ManualResetEventSlim _open = new(false);
        public readonly SemaphoreSlim Entered = new(0);

        public DecodeGate(EmbeddingService service)
        {
            _service = service;
            _real = service.DecodeBatch;
            service.DecodeBatch = (context, batch) =>
            {
                Entered.Release();
                _open.Wait();
                return _real(context, batch);
            };
        }

        public void Open() => _open.Set();

        public void Dispose()
        {
            _open.Set();
            _service.DecodeBatch = _real;
        }
    }

    private async Task<EmbeddingRunner> RunnerAsync()
    {
        // The first request loads the model and creates its embedding loop.
        Assert.Equal(200, (await server.PostAsync("/api/embed", new { model = "stories", input = "warm up" })).Status);
        var loaded = server.Get<ModelManager>().Loaded.Single(m => m.Definition.DisplayName == "stories:latest");
        return loaded.Embeddings(() => throw new InvalidOperationException("the embedding loop should exist"));
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out waiting until " + what);
            await Task.Delay(10);
        }
    }

    private static float[] Vector(JsonNode node) => node.AsArray().Select(v => (float)v!).ToArray();

    [Fact]
    public async Task A_queued_embedding_whose_client_left_is_never_decoded()
    {
        var service = server.Get<EmbeddingService>();
        var runner = await RunnerAsync();
        long decodes = runner.Decodes, cancelled = runner.CancelledRequests;
        using (var gate = new DecodeGate(service))
        {
            var first = server.PostAsync("/api/embed", new { model = "stories", input = "The cat sat." });
            Assert.True(await gate.Entered.WaitAsync(Patience)); // the first request is in its decode

            using var leaving = new CancellationTokenSource();
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/embed") { Content = TestServer.JsonContent(new { model = "stories", input = "A dog ran." }) };
            var second = server.Client.SendAsync(request, leaving.Token);
            await UntilAsync(() => runner.QueuedRequests == 1, "the second request is queued");
            leaving.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
            await UntilAsync(() => runner.CancelledRequests == cancelled + 1, "the server sees the client leave");

            gate.Open();
            var (status, body) = await first;
            Assert.Equal(200, status);
            Assert.Single(body!["embeddings"]!.AsArray());
            await UntilAsync(() => runner.QueuedRequests == 0, "the loop takes the cancelled request off the queue");
        }
        // A later request is decoded next; the cancelled one never was.
        Assert.Equal(200, (await server.PostAsync("/api/embed", new { model = "stories", input = "Tom ran home." })).Status);
        Assert.Equal(decodes + 2, runner.Decodes);
    }

    [Fact]
    public async Task A_full_embedding_queue_answers_503_in_each_APIs_shape_and_queued_requests_share_a_decode()
    {
        var service = server.Get<EmbeddingService>();
        var runner = await RunnerAsync();
        var (_, aloneB) = await server.PostAsync("/api/embed", new { model = "stories", input = "A dog ran in the park." });
        var (_, aloneC) = await server.PostAsync("/api/embed", new { model = "stories", input = "The sun is hot." });
        long decodes = runner.Decodes;
        using (var gate = new DecodeGate(service))
        {
            var first = server.PostAsync("/api/embed", new { model = "stories", input = "The cat sat." });
            Assert.True(await gate.Entered.WaitAsync(Patience));
            var second = server.PostAsync("/api/embed", new { model = "stories", input = "A dog ran in the park." });
            var third = server.PostAsync("/v1/embeddings", new { model = "stories", input = "The sun is hot." });
            await UntilAsync(() => runner.QueuedRequests == 2, "two requests are queued");

            var (status, error) = await server.PostAsync("/api/embed", new { model = "stories", input = "One too many." });
            Assert.Equal(503, status);
            Assert.Equal("server busy, please try again: maximum pending requests exceeded", (string)error!["error"]!);
            (status, error) = await server.PostAsync("/v1/embeddings", new { model = "stories", input = "One too many." });
            Assert.Equal(503, status);
            Assert.Equal("server busy, please try again: maximum pending requests exceeded", (string)error!["error"]!["message"]!);

            gate.Open();
            Assert.Equal(200, (await first).Status);
            var (secondStatus, secondBody) = await second;
            var (thirdStatus, thirdBody) = await third;
            Assert.Equal(200, secondStatus);
            Assert.Equal(200, thirdStatus);
            // The two queued requests went into one decode, and got what each gets alone.
            Assert.Equal(decodes + 2, runner.Decodes);
            var b = Vector(secondBody!["embeddings"]![0]!);
            var c = Vector(thirdBody!["data"]![0]!["embedding"]!);
            var expectedB = Vector(aloneB!["embeddings"]![0]!);
            var expectedC = Vector(aloneC!["embeddings"]![0]!);
            for (int i = 0; i < 64; i++)
            {
                Assert.Equal(expectedB[i], b[i], 4);
                Assert.Equal(expectedC[i], c[i], 4);
            }
        }
    }
}
