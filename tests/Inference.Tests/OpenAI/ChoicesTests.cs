using System.Text.Json.Nodes;
using Inference.Engine.Models;
using Inference.Engine.Scheduling;
using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>
/// n &gt; 1 on /v1/chat/completions and /v1/completions (n choices from one evaluation of the prompt, seed + i per
/// choice), and /v1/completions' legacy logprobs, over HTTP with stories260K.
/// </summary>
[Collection("server")]
public sealed class ChoicesTests(SharedServer server)
{
    private SchedulerStats Stories => server.Get<ModelManager>().AllStats.Single(s => s.Model == "stories:latest");

    private static object Chat(string content, int n, int maxTokens, object? seed = null, bool stream = false, double temperature = 1.0) => new
    {
        model = "stories", messages = new[] { new { role = "user", content } }, n, max_tokens = maxTokens, seed, temperature, stream,
        stream_options = stream ? new { include_usage = true } : null,
    };

    /// <summary>The data of every server-sent event, the last being [DONE].</summary>
    private async Task<List<JsonNode>> EventsAsync(string path, object body)
    {
        using var response = await server.Client.PostAsync(path, TestServer.JsonContent(body));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        return events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
    }

    [Fact]
    public async Task Chat_n_returns_n_choices_from_one_evaluation_of_the_prompt()
    {
        await server.PostAsync("/v1/chat/completions", Chat("warm up", 1, 1)); // loads the model, so that its counters exist
        var stats = Stories;
        long evaluated = stats.PromptTokensEvaluated, cached = stats.PromptTokensCached, steps = stats.DecodeSteps;
        // A prompt unique to this test, so nothing of it is in the prefix cache yet.
        const string prompt = "Chat 7f3a: once upon a time there was a little girl named Lily who loved to play in the big green park with her dog";

        var (status, r) = await server.PostAsync("/v1/chat/completions", Chat(prompt, 3, 6, seed: 5));

        Assert.Equal(200, status);
        var choices = r!["choices"]!.AsArray();
        Assert.Equal([0, 1, 2], choices.Select(c => (int)c!["index"]!));
        Assert.All(choices, c => Assert.Equal("assistant", (string)c!["message"]!["role"]!));
        Assert.All(choices, c => Assert.Equal("length", (string)c!["finish_reason"]!));
        var texts = choices.Select(c => (string)c!["message"]!["content"]!).ToList();
        Assert.True(texts.Distinct().Count() > 1, "choice i samples with seed + i: " + string.Join(" | ", texts));
        var usage = r["usage"]!;
        int L = (int)usage["prompt_tokens"]!;
        // The prompt is counted once, the completions summed.
        Assert.Equal(3 * 6, (int)usage["completion_tokens"]!);
        Assert.Equal(L + 3 * 6, (int)usage["total_tokens"]!);
        int cachedReported = (int)usage["prompt_tokens_details"]!["cached_tokens"]!;

        // Every choice's prompt was evaluated or continued from another's KV cells, and only one prompt's worth was
        // evaluated: what the prefix cache lacked, plus at most the last token of each of the two forks.
        int evaluatedNow = (int)(stats.PromptTokensEvaluated - evaluated);
        Assert.Equal(3 * L, evaluatedNow + (int)(stats.PromptTokensCached - cached));
        Assert.InRange(evaluatedNow, L - cachedReported, L - cachedReported + 2);
        Assert.True(L > 20, $"a prompt of {L} tokens");
        // The three decode together (submitted back to back, they share steps): one after another would take 3 x 6 steps
        // or more; together about 6 (the first token of each comes from the prompt's step), a few more for the forks' starts.
        Assert.InRange(stats.DecodeSteps - steps, 6, 17);
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Equal(stats.PromptTokensEvaluated, PrometheusText.Value(metrics, "inference_prompt_tokens_evaluated_total{model=\"stories:latest\"}"));

        // Choice 1 is what one choice with seed 6 samples; the same request again gives the same choices.
        var (_, one) = await server.PostAsync("/v1/chat/completions", Chat(prompt, 1, 6, seed: 6));
        Assert.Equal(texts[1], (string)one!["choices"]![0]!["message"]!["content"]!);
        var (_, again) = await server.PostAsync("/v1/chat/completions", Chat(prompt, 3, 6, seed: 5));
        Assert.Equal(texts, again!["choices"]!.AsArray().Select(c => (string)c!["message"]!["content"]!));
    }

    [Fact]
    public async Task Streamed_chat_choices_carry_their_index_and_match_the_whole_answer()
    {
        const string prompt = "Chat b21e: the cat sat on the mat and";
        var (_, whole) = await server.PostAsync("/v1/chat/completions", Chat(prompt, 3, 5, seed: 11));
        var chunks = await EventsAsync("/v1/chat/completions", Chat(prompt, 3, 5, seed: 11, stream: true));

        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.Equal(15, (int)usageChunk["usage"]!["completion_tokens"]!);
        Assert.Equal((int)whole!["usage"]!["prompt_tokens"]!, (int)usageChunk["usage"]!["prompt_tokens"]!);
        var choiceChunks = chunks[..^1].Select(c => Assert.Single(c["choices"]!.AsArray())!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string)c["object"]!));
        Assert.Single(chunks.Select(c => (string)c["id"]!).Distinct());
        for (int i = 0; i < 3; i++)
        {
            var mine = choiceChunks.Where(c => (int)c["index"]! == i).ToList();
            Assert.Equal("assistant", (string)mine[0]["delta"]!["role"]!);
            Assert.All(mine.Skip(1), c => Assert.Null(c["delta"]!["role"]));
            // One finish chunk per choice, its last.
            Assert.Equal(["length"], mine.Select(c => (string?)c["finish_reason"]).Where(f => f is not null));
            Assert.Equal("length", (string)mine[^1]["finish_reason"]!);
            var text = string.Concat(mine.Select(c => (string?)c["delta"]!["content"] ?? ""));
            Assert.Equal((string)whole["choices"]![i]!["message"]!["content"]!, text);
        }
        Assert.Equal(choiceChunks.Count, Enumerable.Range(0, 3).Sum(i => choiceChunks.Count(c => (int)c["index"]! == i)));
    }

    [Fact]
    public async Task Completions_n_returns_n_choices_whole_and_streamed()
    {
        var body = new { model = "stories", prompt = "Completion 5d9c: one day a boy", n = 3, max_tokens = 5, seed = 2, temperature = 1.0 };
        var (status, r) = await server.PostAsync("/v1/completions", body);
        Assert.Equal(200, status);
        var choices = r!["choices"]!.AsArray();
        Assert.Equal([0, 1, 2], choices.Select(c => (int)c!["index"]!));
        Assert.All(choices, c => Assert.Equal("length", (string)c!["finish_reason"]!));
        Assert.All(choices, c => Assert.Null(c!["logprobs"]));
        Assert.Equal(15, (int)r["usage"]!["completion_tokens"]!);
        var texts = choices.Select(c => (string)c!["text"]!).ToList();
        Assert.True(texts.Distinct().Count() > 1, string.Join(" | ", texts));

        var chunks = await EventsAsync("/v1/completions", new { body.model, body.prompt, body.n, body.max_tokens, body.seed, body.temperature, stream = true });
        Assert.All(chunks, c => Assert.Equal("text_completion", (string)c["object"]!));
        var choiceChunks = chunks.Select(c => Assert.Single(c["choices"]!.AsArray())!).ToList();
        for (int i = 0; i < 3; i++)
        {
            var mine = choiceChunks.Where(c => (int)c["index"]! == i).ToList();
            Assert.Equal(texts[i], string.Concat(mine.Select(c => (string)c["text"]!)));
            Assert.Equal(["length"], mine.Select(c => (string?)c["finish_reason"]).Where(f => f is not null));
        }
    }

    [Theory]
    [InlineData("/v1/chat/completions", "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":9", "n must be between 1 and 8", "n")]
    [InlineData("/v1/chat/completions", "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":0", "n must be between 1 and 8", "n")]
    [InlineData("/v1/completions", "\"prompt\":\"x\",\"n\":9", "n must be between 1 and 8", "n")]
    [InlineData("/v1/completions", "\"prompt\":\"x\",\"logprobs\":6", "logprobs must be an integer between 0 and 5", "logprobs")]
    [InlineData("/v1/completions", "\"prompt\":\"x\",\"logprobs\":-1", "logprobs must be an integer between 0 and 5", "logprobs")]
    [InlineData("/v1/completions", "\"prompt\":\"x\",\"logprobs\":true", "logprobs must be an integer between 0 and 5", "logprobs")]
    [InlineData("/v1/completions", "\"prompt\":\"x\",\"logprobs\":1.5", "logprobs must be an integer between 0 and 5", "logprobs")]
    public async Task Out_of_bounds_n_and_logprobs_get_openais_error_object(string path, string fields, string message, string param)
    {
        var (status, text) = await server.PostRawAsync(path, "{\"model\":\"stories\"," + fields + "}");
        Assert.Equal(400, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal(message, (string)error["message"]!);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal(param, (string)error["param"]!);
    }

    [Fact]
    public async Task Legacy_logprobs_match_the_chat_logprobs_of_the_same_greedy_request()
    {
        // stories260K has no template: a chat with one user message has exactly the completion's prompt.
        const string prompt = "Legacy 0c4d: Once upon a time";
        var (_, legacy) = await server.PostAsync("/v1/completions", new { model = "stories", prompt, logprobs = 3, max_tokens = 8, temperature = 0 });
        var (_, chat) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", messages = new[] { new { role = "user", content = prompt } }, logprobs = true, top_logprobs = 3, max_tokens = 8, temperature = 0,
        });

        var choice = legacy!["choices"]![0]!;
        var text = (string)choice["text"]!;
        Assert.Equal((string)chat!["choices"]![0]!["message"]!["content"]!, text);
        var lp = choice["logprobs"]!;
        var tokens = lp["tokens"]!.AsArray().Select(t => (string)t!).ToList();
        var entries = chat["choices"]![0]!["logprobs"]!["content"]!.AsArray();
        Assert.Equal(8, tokens.Count);
        Assert.Equal(entries.Select(e => (string)e!["token"]!), tokens);
        Assert.Equal(text, string.Concat(tokens));
        var tokenLogprobs = lp["token_logprobs"]!.AsArray().Select(l => (double)l!).ToList();
        var offsets = lp["text_offset"]!.AsArray().Select(o => (int)o!).ToList();
        var tops = lp["top_logprobs"]!.AsArray();
        Assert.Equal(8, tops.Count);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal((double)entries[i]!["logprob"]!, tokenLogprobs[i], 1e-3);
            Assert.Equal(tokens.Take(i).Sum(t => t.Length), offsets[i]);
            var top = tops[i]!.AsObject();
            var alternatives = entries[i]!["top_logprobs"]!.AsArray();
            Assert.Equal(alternatives.Select(a => (string)a!["token"]!).Distinct(), top.Select(p => p.Key));
            foreach (var a in alternatives) Assert.Equal((double)a!["logprob"]!, (double)top[(string)a["token"]!]!, 1e-3);
            // Greedy: the sampled token is the most likely one.
            Assert.Equal(tokens[i], top.First().Key);
        }

        // Streamed, each chunk carries its own tokens, and the offsets continue across chunks.
        var chunks = await EventsAsync("/v1/completions", new { model = "stories", prompt, logprobs = 3, max_tokens = 8, temperature = 0, stream = true });
        var parts = chunks.Select(c => c["choices"]![0]!).Where(c => c["logprobs"] is not null).Select(c => c["logprobs"]!).ToList();
        Assert.Equal(tokens, parts.SelectMany(p => p["tokens"]!.AsArray().Select(t => (string)t!)));
        Assert.Equal(offsets, parts.SelectMany(p => p["text_offset"]!.AsArray().Select(o => (int)o!)));

        // logprobs 0: the sampled tokens without alternatives.
        var (_, none) = await server.PostAsync("/v1/completions", new { model = "stories", prompt, logprobs = 0, max_tokens = 3, temperature = 0 });
        var zero = none!["choices"]![0]!["logprobs"]!;
        Assert.Equal(tokens.Take(3), zero["tokens"]!.AsArray().Select(t => (string)t!));
        Assert.All(zero["top_logprobs"]!.AsArray(), t => Assert.Empty(t!.AsObject()));
    }
}
