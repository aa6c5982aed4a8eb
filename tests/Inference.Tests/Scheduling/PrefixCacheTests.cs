using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Scheduling;

/// <summary>KV-cache reuse across turns and requests: fewer tokens evaluated, identical outputs.</summary>
[Collection("server")]
public sealed class PrefixCacheTests(SharedServer server)
{
    private const string Cached = "inference_prompt_tokens_cached_total{model=\"stories:latest\"}";
    private const string InPlace = "inference_prefixes_reused_in_place_total{model=\"stories:latest\"}";
    private const string Copied = "inference_kv_streams_copied_total{model=\"stories:latest\"}";

    /// <summary>The same request on a freshly loaded model (no cache at all).</summary>
    private async Task<JsonNode> ColdAsync(string path, object body)
    {
        await server.PostAsync("/api/generate", new { model = "stories", keep_alive = 0 });
        var (status, r) = await server.PostAsync(path, body);
        Assert.Equal(200, status);
        return r!;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.9)]
    public async Task A_chat_follow_up_evaluates_only_the_new_tokens_and_matches_a_cold_run(double temperature)
    {
        var options = new { temperature, seed = 5, num_predict = 40, num_ctx = 2048 };
        var turn1 = new[] { new { role = "user", content = "Lily found a shiny stone in the garden." } };
        var (_, first) = await server.PostAsync("/api/chat", new { model = "stories", messages = turn1, options, stream = false });
        var reply = (string)first!["message"]!["content"]!;
        int firstPrompt = (int)first["prompt_eval_count"]!;

        var turn2 = new[] { turn1[0], new { role = "assistant", content = reply }, new { role = "user", content = "Then she" } };
        var before = await server.Client.GetStringAsync("/metrics");
        var (_, warm) = await server.PostAsync("/api/chat", new { model = "stories", messages = turn2, options, stream = false });
        var after = await server.Client.GetStringAsync("/metrics");
        double reused = PrometheusText.Value(after, Cached) - PrometheusText.Value(before, Cached);
        // The follow-up continues the first turn's KV cells in their own stream: none are copied.
        Assert.Equal((1.0, 0.0), (PrometheusText.Value(after, InPlace) - PrometheusText.Value(before, InPlace),
            PrometheusText.Value(after, Copied) - PrometheusText.Value(before, Copied)));

        var cold = await ColdAsync("/api/chat", new { model = "stories", messages = turn2, options, stream = false });
        int total = (int)cold["prompt_eval_count"]!;
        Assert.True(reused >= firstPrompt, $"the first turn's {firstPrompt} prompt tokens are reused (reused {reused})");
        Assert.Equal(total, (int)warm!["prompt_eval_count"]! + (int)reused);
        Assert.Equal((string)cold["message"]!["content"]!, (string)warm["message"]!["content"]!);
    }

    [Fact]
    public async Task A_shared_prefix_is_evaluated_once_across_requests()
    {
        var prefix = string.Concat(Enumerable.Repeat("The little dog liked to run in the big green park with his friend. ", 12));
        var options = new { temperature = 0, num_predict = 24, num_ctx = 2048 };
        var (aStatus, _) = await server.PostAsync("/api/generate", new { model = "stories", prompt = prefix + "One day the dog", options, stream = false });
        Assert.Equal(200, aStatus); // the prefix is only in the cache if this request ran
        double cachedBefore = await PrometheusText.ScrapeAsync(server.Client, Cached);
        var (_, b) = await server.PostAsync("/api/generate", new { model = "stories", prompt = prefix + "Then a cat came", options, stream = false });
        double reused = await PrometheusText.ScrapeAsync(server.Client, Cached) - cachedBefore;

        var cold = await ColdAsync("/api/generate", new { model = "stories", prompt = prefix + "Then a cat came", options, stream = false });
        int total = (int)cold["prompt_eval_count"]!;
        Assert.True(reused > total * 0.8, $"most of the {total}-token prompt comes from the cache (reused {reused})");
        Assert.Equal(total, (int)b!["prompt_eval_count"]! + (int)reused);
        Assert.Equal((string)cold["response"]!, (string)b["response"]!);
    }
}
