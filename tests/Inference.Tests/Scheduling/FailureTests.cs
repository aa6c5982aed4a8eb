using System.Text.Json.Nodes;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Scheduling;
using Inference.Tests.Support;
using LLama.Native;

namespace Inference.Tests.Scheduling;

/// <summary>Three sequences decoded together, so a failure can hit one of several running ones.</summary>
public sealed class FailureServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:NumParallel=3"];
}

/// <summary>
/// Failures inside the engine, injected through its seams (the runner's decode step, the embedding
/// service's decode): one failing sequence fails only its own request, a scheduler loop that dies
/// fails everything it holds at once and the model is reloaded, and nothing hangs.
/// </summary>
public sealed class FailureTests(FailureServer server) : IClassFixture<FailureServer>
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(20);

    private static object Story(string prompt, int predict, string? marker = null) => new
    {
        model = "stories",
        prompt,
        stream = false,
        options = new { temperature = 0, num_predict = predict, stop = marker is null ? new[] { "\n\n\n" } : [marker] },
    };

    private async Task<ModelRunner> LoadedRunnerAsync()
    {
        var (status, _) = await server.PostAsync("/api/generate", new { model = "stories", keep_alive = "10m" });
        Assert.Equal(200, status);
        return server.Get<ModelManager>().Loaded.Single(m => m.Definition.DisplayName == "stories:latest").Runner;
    }

    private async Task<List<string>> RunningAsync() =>
        (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray().Select(m => (string)m!["name"]!).ToList();

    [Fact]
    public async Task A_sequence_whose_decode_fails_ends_with_an_error_and_the_others_finish_as_if_alone()
    {
        // What each generates alone, before anything is injected (greedy, so batched output is the same).
        var (_, aloneA) = await server.PostAsync("/api/generate", Story("Once upon a time", 60));
        var (_, aloneB) = await server.PostAsync("/api/generate", Story("Tom and Sue went to the shop", 60));

        var runner = await LoadedRunnerAsync();
        var decode = runner.DecodeStep;
        int failed = 0;
        // Every batch that holds the poisoned request fails, as llama.cpp fails a whole batch.
        runner.DecodeStep = (batch, requests) =>
        {
            if (!requests.Any(r => r.Stop.Contains("<poison>"))) return decode(batch, requests);
            Interlocked.Increment(ref failed);
            return DecodeResult.DecodeFailed;
        };
        try
        {
            var a = server.PostAsync("/api/generate", Story("Once upon a time", 60));
            var b = server.PostAsync("/api/generate", Story("Tom and Sue went to the shop", 60));
            await RunnerHarness.UntilAsync(() => runner.Stats.ActiveSequences == 2);
            var (status, poisoned) = await server.PostAsync("/api/generate", Story("A poisoned prompt", 60, "<poison>")).WaitAsync(Prompt);

            Assert.Equal(500, status);
            Assert.Equal("decode failed: DecodeFailed", (string)poisoned!["error"]!);
            Assert.True(failed >= 2, "the batch failed, then the poisoned sequence alone");
            var (statusA, resultA) = await a.WaitAsync(Prompt);
            var (statusB, resultB) = await b.WaitAsync(Prompt);
            Assert.Equal(200, statusA);
            Assert.Equal(200, statusB);
            // Their steps were undone and decoded again one by one: the text is exactly what each wrote alone.
            Assert.Equal((string)aloneA!["response"]!, (string)resultA!["response"]!);
            Assert.Equal((string)aloneB!["response"]!, (string)resultB!["response"]!);
            Assert.Equal(60, (int)resultA["eval_count"]!);
            Assert.Equal(60, (int)resultB["eval_count"]!);
            Assert.True(runner.IsRunning);
        }
        finally
        {
            runner.DecodeStep = decode;
        }
        var (okStatus, ok) = await server.PostAsync("/api/generate", Story("Once upon a time", 60));
        Assert.Equal(200, okStatus);
        Assert.Equal((string)aloneA!["response"]!, (string)ok!["response"]!);
    }

    [Fact]
    public async Task A_loop_that_dies_fails_running_and_queued_requests_at_once_and_the_next_request_reloads_the_model()
    {
        var runner = await LoadedRunnerAsync();
        var decode = runner.DecodeStep;
        // The killer's first batch waits until two more requests are queued behind the two running ones, then throws.
        runner.DecodeStep = (batch, requests) =>
        {
            if (!requests.Any(r => r.Stop.Contains("<die>"))) return decode(batch, requests);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (runner.Stats.QueuedRequests < 2 && DateTime.UtcNow < deadline) Thread.Sleep(5);
            throw new InvalidOperationException("injected failure");
        };

        // A long stream holds one sequence and the killer another; two more are submitted while the loop is stuck, so they wait in the queue.
        var streaming = new HttpRequestMessage(HttpMethod.Post, "/api/generate")
        {
            Content = TestServer.JsonContent(new { model = "stories", prompt = "Once", options = new { num_predict = 2000, stop = new[] { "\n\n\n" } } }),
        };
        using var response = await server.Client.SendAsync(streaming, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.NotNull(await reader.ReadLineAsync());
        var killer = server.PostAsync("/api/generate", Story("Sue", 50, "<die>"));
        await RunnerHarness.UntilAsync(() => runner.Stats.ActiveSequences == 2);
        var queued = new[] { server.PostAsync("/api/generate", Story("Tom", 5)), server.PostAsync("/api/generate", Story("Ben", 5)) };

        const string message = "the model's scheduler stopped after an internal error (injected failure); the model is reloaded on the next request";
        var (killerStatus, killed) = await killer.WaitAsync(Prompt);
        Assert.Equal(500, killerStatus);
        Assert.Equal(message, (string)killed!["error"]!);
        foreach (var request in queued)
        {
            var (status, body) = await request.WaitAsync(Prompt);
            Assert.Equal(500, status);
            Assert.Equal(message, (string)body!["error"]!);
        }
        // The stream that was running ends with an error line, not a hang.
        var rest = await reader.ReadToEndAsync().WaitAsync(Prompt);
        var last = JsonNode.Parse(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;
        Assert.Equal(message, (string)last["error"]!);

        Assert.False(runner.IsRunning);
        Assert.DoesNotContain("stories:latest", await RunningAsync());
        // A request that already held the dead runner gets a clear, retryable error.
        var manager = server.Get<ModelManager>();
        Assert.Throws<SchedulerFailedException>(() => runner.Submit(new GenerationRequest { PromptTokens = [(LLamaToken)1, (LLamaToken)2] }));

        // The next request loads the model again (a new runner, with the real decode) and succeeds.
        var (okStatus, ok) = await server.PostAsync("/api/generate", Story("Once upon a time", 8)).WaitAsync(Prompt);
        Assert.Equal(200, okStatus);
        Assert.Equal(8, (int)ok!["eval_count"]!);
        Assert.True((long)ok["load_duration"]! > 0);
        Assert.Contains("stories:latest", await RunningAsync());
        Assert.NotSame(runner, manager.Loaded.Single(m => m.Definition.DisplayName == "stories:latest").Runner);
    }

    [Fact]
    public async Task An_embedding_decode_that_fails_is_an_error_for_that_request_only()
    {
        var embeddings = server.Get<EmbeddingService>();
        var (status, before) = await server.PostAsync("/api/embed", new { model = "stories", input = "A dog ran." });
        Assert.Equal(200, status);

        var decode = embeddings.DecodeBatch;
        embeddings.DecodeBatch = (_, _) => DecodeResult.DecodeFailed;
        try
        {
            var (failedStatus, failed) = await server.PostAsync("/api/embed", new { model = "stories", input = "A dog ran." }).WaitAsync(Prompt);
            Assert.Equal(500, failedStatus);
            Assert.Equal("embedding decode failed: DecodeFailed", (string)failed!["error"]!);
            var (openAiStatus, openAi) = await server.PostAsync("/v1/embeddings", new { model = "stories", input = "A dog ran." }).WaitAsync(Prompt);
            Assert.Equal(500, openAiStatus);
            Assert.Equal("embedding decode failed: DecodeFailed", (string)openAi!["error"]!["message"]!);
            Assert.Equal("api_error", (string)openAi["error"]!["type"]!);

            // A throwing decode is the same: the lock on the embedding context is released, nothing waits on it.
            embeddings.DecodeBatch = (_, _) => throw new EmbeddingFailedException("embedding decode failed: injected");
            (failedStatus, failed) = await server.PostAsync("/api/embed", new { model = "stories", input = "A cat sat." }).WaitAsync(Prompt);
            Assert.Equal(500, failedStatus);
            Assert.Equal("embedding decode failed: injected", (string)failed!["error"]!);
        }
        finally
        {
            embeddings.DecodeBatch = decode;
        }
        var (afterStatus, after) = await server.PostAsync("/api/embed", new { model = "stories", input = "A dog ran." }).WaitAsync(Prompt);
        Assert.Equal(200, afterStatus);
        Assert.Equal(before!["embeddings"]!.ToJsonString(), after!["embeddings"]!.ToJsonString());
    }
}
