using System.Diagnostics;
using System.Text.Json.Nodes;
using Inference.Tests.Platform;
using Inference.Tests.Support;
using Xunit.Abstractions;

namespace Inference.Tests.Ollama;

/// <summary>
/// Client text longer than the context can hold is refused by its length, before anything tokenizes
/// it (stories: 2048 tokens × 9 bytes, its longest token "▁friend" = 18432 bytes), on every route that
/// tokenizes client text; routes that truncate cut it instead. A 15 MiB input (just under the 16 MiB
/// that generation routes accept as a request body) costs about what reading it does, not a
/// tokenization of 15 MiB.
/// </summary>
public sealed class LongInputTests(PlatformServer server, ITestOutputHelper output) : IClassFixture<PlatformServer>
{
    private const int Megabytes = 15;
    private static readonly string Huge = string.Concat(Enumerable.Repeat("Once upon a time, a dog ran to the park. ", Megabytes * 1024 * 1024 / 41 + 1));
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(5);

    private static readonly string TooLong =
        $"the input length ({System.Text.Encoding.UTF8.GetByteCount(Huge)} bytes, so at least {(System.Text.Encoding.UTF8.GetByteCount(Huge) + 8) / 9} tokens " +
        "at 9 bytes per token, the longest in the model's vocabulary) exceeds the context length (2048 tokens)";
    private const string TooLongRendered =
        "the input length (more than 18432 bytes, so at least 2049 tokens at 9 bytes per token, the longest in the model's vocabulary) exceeds the context length (2048 tokens)";

    /// <summary>
    /// Embedding a cut input does the work of embedding its first 2048 tokens (2-3 s on a 2-core machine);
    /// what must stay fast is everything else. So the bound for it is the time the same route takes for
    /// a 14000-byte prefix (also 2048 tokens), plus <see cref="Fast"/>.
    /// </summary>
    private async Task<TimeSpan> EmbeddingBoundAsync(string path, object prefixBody)
    {
        var started = Stopwatch.GetTimestamp();
        var (status, _) = await server.PostAsync(path, prefixBody);
        Assert.Equal(200, status);
        return Stopwatch.GetElapsedTime(started) + Fast;
    }

    private async Task<(int Status, JsonNode? Body)> TimedAsync(string path, object body, HttpClient? client = null, TimeSpan? bound = null)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await (client ?? server.Client).PostAsync(path, TestServer.JsonContent(body));
        var text = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started);
        output.WriteLine($"{path}: {(int)response.StatusCode} in {elapsed.TotalMilliseconds:F0} ms");
        Assert.True(elapsed < (bound ?? Fast), $"{path} took {elapsed} (bound {bound ?? Fast})");
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private async Task AssertServingAsync()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, status);
        Assert.Equal(3, (int)r!["eval_count"]!);
    }

    [Fact]
    public async Task A_15_MB_prompt_is_a_fast_400_on_the_ollama_routes()
    {
        Assert.True(Huge.Length >= Megabytes << 20);
        var (status, r) = await TimedAsync("/api/generate", new { model = "stories", prompt = Huge, raw = true, truncate = false, stream = false });
        Assert.Equal(400, status);
        Assert.Equal(TooLong, (string)r!["error"]!);

        (status, r) = await TimedAsync("/api/generate", new { model = "stories", prompt = Huge, truncate = false, stream = false });
        Assert.Equal(400, status);
        Assert.Equal(TooLongRendered, (string)r!["error"]!);

        (status, r) = await TimedAsync("/api/chat", new { model = "stories", messages = new[] { new { role = "user", content = Huge } }, truncate = false, stream = false });
        Assert.Equal(400, status);
        Assert.Equal(TooLongRendered, (string)r!["error"]!);
        await AssertServingAsync();
    }

    [Fact]
    public async Task A_15_MB_history_keeps_the_latest_turns_that_fit()
    {
        // 1400 turns of 10 KB: the oldest are dropped until the rest fits, found in a few bounded renders.
        var turn = Huge[..(10 * 1024)];
        var messages = Enumerable.Range(0, 1400).Select(i => new { role = i % 2 == 0 ? "user" : "assistant", content = turn + i })
            .Append(new { role = "user", content = "What happened next?" }).ToArray();
        var (status, r) = await TimedAsync("/api/chat", new { model = "stories", messages, stream = false, options = new { num_predict = 2 } });
        Assert.Equal(200, status);
        Assert.InRange((int)r!["prompt_eval_count"]!, 1, 2047);
        Assert.Equal(2, (int)r["eval_count"]!);
    }

    [Fact]
    public async Task Embeddings_refuse_a_15_MB_input_without_truncate_and_cut_it_with()
    {
        var (status, r) = await TimedAsync("/api/embed", new { model = "stories", input = Huge, truncate = false });
        Assert.Equal(400, status);
        Assert.Equal(TooLong, (string)r!["error"]!);
        (status, r) = await TimedAsync("/api/embed", new { model = "stories", input = new[] { "short", Huge }, truncate = false });
        Assert.Equal(400, status);
        Assert.Equal(TooLong.Replace("the input length", "input[1] length"), (string)r!["error"]!);

        // Truncated: cut before tokenizing, and still exactly the first 2048 tokens, as for a text short
        // enough to be tokenized whole (14000 bytes: under the bound, yet about 3500 tokens).
        (status, r) = await TimedAsync("/api/embed", new { model = "stories", input = Huge },
            bound: await EmbeddingBoundAsync("/api/embed", new { model = "stories", input = Huge[..14000] }));
        Assert.Equal(200, status);
        Assert.Equal(2048, (int)r!["prompt_eval_count"]!);
        var (_, prefix) = await server.PostAsync("/api/embed", new { model = "stories", input = Huge[..14000] });
        Assert.Equal(2048, (int)prefix!["prompt_eval_count"]!);
        Assert.Equal(prefix["embeddings"]!.ToJsonString(), r["embeddings"]!.ToJsonString());

        (status, r) = await TimedAsync("/api/embeddings", new { model = "stories", prompt = Huge },
            bound: await EmbeddingBoundAsync("/api/embeddings", new { model = "stories", prompt = Huge[..14000] }));
        Assert.Equal(200, status);
        Assert.Equal(64, r!["embedding"]!.AsArray().Count);
        await AssertServingAsync();
    }

    [Fact]
    public async Task The_openai_routes_refuse_a_15_MB_prompt_in_their_shape_and_truncate_embeddings()
    {
        var (status, r) = await TimedAsync("/v1/completions", new { model = "stories", prompt = Huge });
        Assert.Equal(400, status);
        Assert.Equal(TooLong, (string)r!["error"]!["message"]!);
        Assert.Equal("invalid_request_error", (string)r["error"]!["type"]!);

        (status, r) = await TimedAsync("/v1/chat/completions", new { model = "stories", messages = new[] { new { role = "user", content = Huge } } });
        Assert.Equal(400, status);
        Assert.Equal(TooLongRendered, (string)r!["error"]!["message"]!);

        (status, r) = await TimedAsync("/v1/embeddings", new { model = "stories", input = Huge },
            bound: await EmbeddingBoundAsync("/v1/embeddings", new { model = "stories", input = Huge[..14000] }));
        Assert.Equal(200, status);
        Assert.Equal(2048, (int)r!["usage"]!["prompt_tokens"]!);
        await AssertServingAsync();
    }

    [Fact]
    public async Task The_platform_routes_refuse_or_cut_long_text_before_tokenizing_it()
    {
        using var client = TestTokens.Client(server, TestTokens.For("alice", "tenant_acme"));
        var (status, r) = await TimedAsync("/ai/generate", new { prompt = Huge, model = "stories", max_tokens = 4 }, client);
        Assert.Equal(400, status);
        Assert.Equal(TooLongRendered, (string)r!["error"]!);

        // Code completion keeps the code nearest the cursor: the largest file the route takes is cut to what can fit.
        var code = Huge[..1_000_000];
        (status, r) = await TimedAsync("/ai/code/complete", new { code, cursor_position = code.Length, language = "text", model = "stories", n = 1, max_tokens = 4 }, client);
        Assert.Equal(200, status);
        Assert.InRange((int)r!["prompt_eval_count"]!, 1, 2048 - 4);
    }
}
