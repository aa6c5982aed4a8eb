using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Inference.Engine.Models;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.Code;

/// <summary>POST /ai/code/complete end to end, with real GGUF models over HTTP.</summary>
public sealed class CodeCompletionTests(CodeServer server) : IClassFixture<CodeServer>
{
    private const string Before = "def add(a, b):\n    return ";
    private const string After = "\n\nprint(add(1, 2))\n";

    private async Task<(int Status, JsonNode? Body)> CompleteAsync(object body, string? token = "user-1")
    {
        using var client = token is null ? new HttpClient { BaseAddress = new Uri(server.BaseUrl) } : TestTokens.Client(server, TestTokens.For(token));
        using var response = await client.PostAsync("/ai/code/complete", TestServer.JsonContent(body));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static IReadOnlyList<string> Strings(JsonNode? array) => array!.AsArray().Select(n => (string)n!).ToList();

    private global::Inference.Engine.Scheduling.SchedulerStats Stats(string model) =>
        server.Get<ModelManager>().AllStats.Single(s => s.Model == model);

    [Fact]
    public async Task A_fim_model_fills_in_and_its_completions_share_one_prompt_evaluation()
    {
        // Loads the model, so that its scheduler counters exist.
        var (loaded, _) = await CompleteAsync(new { code = "x = 1\n", language = "python", cursor_position = 0, model = CodeServer.FimModel, n = 1, max_tokens = 1 });
        Assert.Equal(200, loaded);
        var stats = Stats("fimcode:latest");
        long evaluated = stats.PromptTokensEvaluated, cached = stats.PromptTokensCached;
        long reusedInPlace = stats.PrefixesReusedInPlace, copied = stats.KvStreamsCopied;

        // A comment unique to this test, so nothing of its prompt is in the prefix cache yet.
        var code = "# 9f1c2e shared-prefill\n" + Before + After;
        int cursor = code.IndexOf(After, StringComparison.Ordinal);
        var (status, r) = await CompleteAsync(new { code, language = "python", cursor_position = cursor, model = CodeServer.FimModel, n = 4, max_tokens = 8, seed = 3 });

        Assert.Equal(200, status);
        Assert.Equal("fimcode:latest", (string)r!["model"]!);
        Assert.Equal("fim", (string)r["mode"]!);
        Assert.Equal(4, Strings(r["completions"]).Count);
        Assert.Equal(4, r["choices"]!.AsArray().Count);
        int L = (int)r["prompt_eval_count"]!;
        int evaluatedNow = (int)(stats.PromptTokensEvaluated - evaluated);
        // Every completion's prompt was either evaluated or forked; only one prompt's worth was evaluated.
        Assert.Equal(4 * L, evaluatedNow + (int)(stats.PromptTokensCached - cached));
        // One prompt's worth (less what the prefix cache had, e.g. BOS and <PRE>) and each fork's last token, not 4 prompts.
        Assert.InRange(evaluatedNow, L / 2, L + 3);
        Assert.Equal(evaluatedNow, (int)r["prompt_tokens_evaluated"]!);
        // Each of the other three continued the first one's prompt: copied from its stream while it ran, or
        // continued in place once it had finished (whether one waited for the prompt depends on arrival times).
        Assert.Equal(3, (int)(stats.PrefixesReusedInPlace - reusedInPlace + stats.KvStreamsCopied - copied));
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Equal(stats.DeferredRequests, PrometheusText.Value(metrics, "inference_shared_prompt_requests_total{model=\"fimcode:latest\"}"));

        // The same prompt through Ollama's insert route (prompt + suffix) has the same tokens:
        // BOS <PRE> before <SUF> after <MID>.
        double reusedBefore = stats.PromptTokensCached;
        var (_, ollama) = await server.PostAsync("/api/generate", new
        {
            model = CodeServer.FimModel, prompt = code[..cursor], suffix = code[cursor..], stream = false,
            options = new { temperature = 0.6, repeat_penalty = 1.0, seed = 3, num_predict = 8 },
        });
        Assert.Equal(L, (int)ollama!["prompt_eval_count"]! + (int)(stats.PromptTokensCached - reusedBefore));
    }

    /// <summary>Unloads stories260K: the next request evaluates its whole prompt, with nothing cached.</summary>
    private Task UnloadStoriesAsync() => server.PostAsync("/api/generate", new { model = "stories", keep_alive = 0 });

    [Fact]
    public async Task A_prefix_only_completion_is_a_raw_generation_and_its_confidence_comes_from_its_logprobs()
    {
        const string code = "Once upon a time, there was a little girl named Lily. She";
        // Both runs start cold and run alone, so they compute exactly the same thing.
        await UnloadStoriesAsync();
        var (status, r) = await CompleteAsync(new { code, language = "text", cursor_position = code.Length, model = "stories", n = 1, max_tokens = 24, seed = 11 });
        await UnloadStoriesAsync();
        var (_, single) = await server.PostAsync("/api/generate", new
        {
            model = "stories", prompt = code, raw = true, stream = false, logprobs = true,
            options = new { temperature = 0.6, repeat_penalty = 1.0, seed = 11, num_predict = 24, stop = new[] { "\n\n" } },
        });

        Assert.Equal(200, status);
        Assert.Equal("prefix", (string)r!["mode"]!);
        Assert.Equal("stories:latest", (string)r["model"]!);
        Assert.Equal((string)single!["response"]!, Assert.Single(Strings(r["completions"])));
        Assert.Equal((int)single["prompt_eval_count"]!, (int)r["prompt_eval_count"]!);
        // exp(mean log-probability) of the sampled tokens.
        var logprobs = single["logprobs"]!.AsArray().Select(l => (double)l!["logprob"]!).ToList();
        Assert.Equal((int)single["eval_count"]!, logprobs.Count);
        Assert.Equal(Math.Exp(logprobs.Average()), (double)r["confidence"]!, 1e-6);
        Assert.Equal((double)r["confidence"]!, (double)r["choices"]![0]!["confidence"]!);
    }

    [Fact]
    public async Task Forked_completions_differ_and_the_confidence_is_their_mean()
    {
        const string code = "One day, Tom went to the park with his dog. The dog";
        var (status, r) = await CompleteAsync(new { code, language = "text", cursor_position = code.Length, model = "stories", n = 3, max_tokens = 24, seed = 21 });
        Assert.Equal(200, status);
        var choices = r!["choices"]!.AsArray();
        Assert.Equal(3, choices.Count);
        Assert.Equal(Strings(r["completions"]), choices.Select(c => (string)c!["text"]!).ToList());
        Assert.True(Strings(r["completions"]).Distinct().Count() > 1, "each fork samples with its own seed");
        var each = choices.Select(c => (double)c!["confidence"]!).ToList();
        Assert.All(each, c => Assert.InRange(c, double.Epsilon, 1));
        Assert.Equal(each.Average(), (double)r["confidence"]!, 1e-12);
    }

    [Fact]
    public async Task Confidence_follows_the_input()
    {
        var (_, a) = await CompleteAsync(new { code = "Once upon a time, there was a", language = "text", cursor_position = 29, model = "stories", n = 2, max_tokens = 16, seed = 1 });
        var (_, b) = await CompleteAsync(new { code = "Zq xv wj kk pq", language = "text", cursor_position = 14, model = "stories", n = 2, max_tokens = 16, seed = 1 });
        double ca = (double)a!["confidence"]!, cb = (double)b!["confidence"]!;
        Assert.InRange(ca, double.Epsilon, 1);
        Assert.InRange(cb, double.Epsilon, 1);
        Assert.NotEqual(ca, cb);
    }

    [Fact]
    public async Task Without_a_model_the_installed_fim_model_is_used()
    {
        var (status, r) = await CompleteAsync(new { code = Before + After, language = "python", cursor_position = Before.Length, n = 1, max_tokens = 4 });
        Assert.Equal(200, status);
        Assert.Equal("fimcode:latest", (string)r!["model"]!);
        Assert.Equal("fim", (string)r["mode"]!);
    }

    [Fact]
    public async Task A_file_longer_than_the_context_is_trimmed_to_the_code_nearest_the_cursor()
    {
        var code = string.Concat(Enumerable.Range(0, 3000).Select(i => $"Line {i}: the cat sat on the mat.\n")) + "The end of the story is";
        var (status, r) = await CompleteAsync(new { code, language = "text", cursor_position = code.Length, model = "stories", n = 1, max_tokens = 8 });
        Assert.Equal(200, status);
        Assert.InRange((int)r!["prompt_eval_count"]!, 1000, 2048 - 8);
    }

    [Theory]
    [InlineData("""{"code":"abc","language":"c","cursor_position":4}""", "cursor_position must be between 0 and 3")]
    [InlineData("""{"code":"abc","language":"c","cursor_position":-1}""", "cursor_position must be between 0 and 3")]
    [InlineData("""{"code":"a\ud83d\ude00b","language":"c","cursor_position":2}""", "cursor_position splits a surrogate pair")]
    [InlineData("""{"code":"abc","language":"c","cursor_position":1,"n":0}""", "n must be between 1 and 8")]
    [InlineData("""{"code":"abc","language":"c","cursor_position":1,"n":9}""", "n must be between 1 and 8")]
    [InlineData("""{"code":"abc","language":"c","cursor_position":1,"max_tokens":513}""", "max_tokens must be between 1 and 512")]
    [InlineData("""{"language":"c","cursor_position":0}""", "code is required")]
    [InlineData("""{"code":"abc","language":" ","cursor_position":0}""", "language is required")]
    [InlineData("""{"code":"abc","language":"c"}""", "cursor_position is required")]
    [InlineData("""{"code":"abc","language":"c","cursor_position":"1"}""", "field 'cursor_position' has the wrong type")]
    [InlineData("""{"code":"abc","language":"c","cursor_position":0,"model":"stories"}""", "needs code before the cursor")]
    public async Task Invalid_requests_get_400_with_the_reason(string body, string message)
    {
        using var client = TestTokens.Client(server, TestTokens.For("user-1"));
        using var response = await client.PostAsync("/ai/code/complete", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)response.StatusCode);
        var error = (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["error"]!;
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task Requests_without_a_token_get_401()
    {
        var (status, _) = await CompleteAsync(new { code = "x", language = "c", cursor_position = 1 }, token: null);
        Assert.Equal(401, status);
    }
}

public sealed class CodeCompletionRateLimitTests(LimitedCodeServer server) : IClassFixture<LimitedCodeServer>
{
    [Fact]
    public async Task Completions_are_limited_per_user()
    {
        var body = new { code = "Once upon a time", language = "text", cursor_position = 16, model = "stories", n = 1, max_tokens = 2 };
        using var first = TestTokens.Client(server, TestTokens.For("user-a"));
        using var second = TestTokens.Client(server, TestTokens.For("user-b"));
        Assert.Equal(200, (int)(await first.PostAsync("/ai/code/complete", TestServer.JsonContent(body))).StatusCode);
        Assert.Equal(429, (int)(await first.PostAsync("/ai/code/complete", TestServer.JsonContent(body))).StatusCode);
        Assert.Equal(200, (int)(await second.PostAsync("/ai/code/complete", TestServer.JsonContent(body))).StatusCode);
    }
}
