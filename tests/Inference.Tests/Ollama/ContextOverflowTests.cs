using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>A server of its own, so that prefix-cache contents and metrics come only from these tests.</summary>
public sealed class OverflowServer : TestServer;

/// <summary>
/// Ollama's truncate and shift end to end: a prompt longer than num_ctx keeps its first num_keep (+BOS) tokens
/// and its most recent ones; a generation that fills num_ctx is shifted (half the tokens after the kept
/// start discarded) and goes on; truncate:false / shift:false keep the 400 and the "length" stop; the prefix
/// cache never reuses shifted cells. Counts are exact, worked out from the returned token ids ("context").
/// </summary>
public sealed class ContextOverflowTests(OverflowServer server) : IClassFixture<OverflowServer>
{
    /// <summary>Ollama's default num_keep (4) plus the BOS token both test models add.</summary>
    private const int Keep = 5;
    private const int Bos = 1;

    /// <summary>Ollama's contextShiftPromptLimit: what a truncated prompt keeps.</summary>
    private static int Limit(int ctx, int keep) => ctx - Math.Max((ctx - keep) / 2, 1);

    private static readonly string Story = string.Concat(Enumerable.Repeat("the cat sat on the mat and the dog ran to the park. ", 12));

    private static List<int> Ids(JsonNode? node) => node!.AsArray().Select(n => (int)n!).ToList();

    private async Task<JsonNode> GenerateAsync(object body)
    {
        var (status, r) = await server.PostAsync("/api/generate", body);
        Assert.True(status == 200, r?.ToJsonString());
        return r!;
    }

    [Fact]
    public async Task A_prompt_longer_than_num_ctx_keeps_its_start_and_its_latest_tokens()
    {
        var prompt = "Once upon a time " + Story + "Then the girl";
        // The whole prompt's tokens, from a context that holds it (the prompt is the start of "context").
        var whole = await GenerateAsync(new { model = "stories", prompt, stream = false, options = new { temperature = 0, num_predict = 1, num_ctx = 1024 } });
        var all = Ids(whole["context"]);
        var tokens = all[..^(int)whole["eval_count"]!];
        Assert.InRange(tokens.Count, 129, 1023);
        Assert.Equal(Bos, tokens[0]);

        var before = await PrometheusText.ScrapeAsync(server.Client, "inference_prompt_tokens_truncated_total{model=\"stories:latest\"}");
        var cut = await GenerateAsync(new { model = "stories", prompt, stream = false, options = new { temperature = 0, num_predict = 8, num_ctx = 128 } });
        int kept = Limit(128, Keep);
        Assert.Equal(67, kept);
        Assert.Equal(kept, (int)cut["prompt_eval_count"]!);
        Assert.Equal(tokens.Count - kept, (int)cut["truncated_tokens"]!);
        Assert.Equal(8, (int)cut["eval_count"]!);
        var context = Ids(cut["context"]);
        Assert.Equal(kept + 8, context.Count);
        Assert.Equal(tokens[..Keep], context[..Keep]);
        Assert.Equal(tokens[^(kept - Keep)..], context[Keep..kept]);
        var after = await PrometheusText.ScrapeAsync(server.Client, "inference_prompt_tokens_truncated_total{model=\"stories:latest\"}");
        Assert.Equal(tokens.Count - kept, after - before);

        // num_keep moves the kept start; -1 keeps as much of the start as the context allows.
        var keep20 = await GenerateAsync(new { model = "stories", prompt, stream = false, options = new { temperature = 0, num_predict = 1, num_ctx = 128, num_keep = 20 } });
        var context20 = Ids(keep20["context"]);
        Assert.Equal(Limit(128, 21), (int)keep20["prompt_eval_count"]!);
        Assert.Equal(tokens[..21], context20[..21]);
        Assert.Equal(tokens[^(Limit(128, 21) - 21)..], context20[21..Limit(128, 21)]);
    }

    [Fact]
    public async Task Truncate_false_keeps_the_400()
    {
        var prompt = "A long day. " + Story;
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt, truncate = false, stream = false, options = new { num_ctx = 128 } });
        Assert.Equal(400, status);
        Assert.Matches(@"^the input length \(\d+ tokens\) exceeds the context length \(128 tokens\)$", (string)r!["error"]!);

        // Chat: without truncate no turn is dropped either (Ollama's chatPrompt), so a long history is refused too.
        var history = Enumerable.Range(0, 12).Select(i => new { role = i % 2 == 0 ? "user" : "assistant", content = "the cat sat on the mat " + i }).ToList();
        history.Add(new { role = "user", content = "and then?" });
        (status, r) = await server.PostAsync("/api/chat", new { model = "stories", messages = history, truncate = false, stream = false, options = new { num_ctx = 64 } });
        Assert.Equal(400, status);
        Assert.Matches(@"^the input length \(\d+ tokens\) exceeds the context length \(64 tokens\)$", (string)r!["error"]!);
        (status, r) = await server.PostAsync("/api/chat", new { model = "stories", messages = history, stream = false, options = new { num_ctx = 64, num_predict = 2 } });
        Assert.Equal(200, status);
        Assert.True((int)r!["prompt_eval_count"]! < 64);

        // A single message longer than the context, with truncate (the default), is cut like a generate prompt.
        var huge = new[] { new { role = "user", content = prompt } };
        (status, r) = await server.PostAsync("/api/chat", new { model = "stories", messages = huge, stream = false, options = new { num_ctx = 64, num_predict = 2 } });
        Assert.Equal(200, status);
        Assert.Equal(Limit(64, Keep), (int)r!["prompt_eval_count"]!);
    }

    [Fact]
    public async Task Text_too_long_to_tokenize_whole_is_cut_to_its_ends_at_once()
    {
        // 1 MB: far beyond 128 tokens x 9 bytes; only its start and end are tokenized.
        var prompt = "In a far land " + string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 45_000)) + "The end came";
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var r = await GenerateAsync(new { model = "stories", prompt, raw = true, stream = false, options = new { temperature = 0, num_predict = 2, num_ctx = 128 } });
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10));
        Assert.Equal(Limit(128, Keep), (int)r["prompt_eval_count"]!);
        // A lower bound: at least the middle's bytes / 9 (the longest token) were dropped.
        Assert.True((long)r["truncated_tokens"]! >= prompt.Length / 9 - 2 * 128 * 9, r.ToJsonString());
    }

    /// <summary>
    /// What the scheduler does with a sequence of <paramref name="prompt"/> tokens generating <paramref name="output"/>
    /// (all sampled, the last never decoded) in a context of <paramref name="ctx"/>: the KV tokens it ends with and its shifts.
    /// </summary>
    private static (List<int> Kv, int Shifts) Simulate(List<int> prompt, List<int> output, int ctx, int keep = Keep)
    {
        var kv = new List<int>(prompt);
        int shifts = 0;
        for (int k = 1; k <= output.Count; k++)
        {
            if (k == output.Count) break;
            if (kv.Count + 1 >= ctx)
            {
                int discard = (kv.Count - keep) / 2;
                kv.RemoveRange(keep, discard);
                shifts++;
            }
            kv.Add(output[k - 1]);
        }
        return (kv, shifts);
    }

    [Fact]
    public async Task A_full_context_is_shifted_and_generation_goes_on()
    {
        const int ctx = 64, predict = 150;
        var r = await GenerateAsync(new { model = "tiny", prompt = "Hello there my old friend", stream = false, options = new { temperature = 0, num_predict = predict, num_ctx = ctx } });
        int eval = (int)r["eval_count"]!;
        Assert.Equal(predict, eval);
        Assert.Equal("length", (string)r["done_reason"]!);
        var context = Ids(r["context"]);
        var prompt = context[..^eval];
        Assert.Equal(Bos, prompt[0]);
        var (_, shifts) = Simulate(prompt, context[^eval..], ctx);
        Assert.Equal(shifts, (int)r["context_shifts"]!);
        Assert.True(shifts >= 2, $"{shifts} shifts");
        Assert.True(eval > ctx - prompt.Count);

        // shift:false stops when the context is full, as before.
        var stopped = await GenerateAsync(new { model = "tiny", prompt = "Hello there my old friend", shift = false, stream = false, options = new { temperature = 0, num_predict = predict, num_ctx = ctx } });
        Assert.Equal("length", (string)stopped["done_reason"]!);
        Assert.Equal(ctx - prompt.Count, (int)stopped["eval_count"]!);
        Assert.Null(stopped["context_shifts"]);
        Assert.Equal(context[..ctx], Ids(stopped["context"]));
    }

    [Fact]
    public async Task Without_num_predict_a_shifting_generation_ends_after_ten_contexts()
    {
        const int ctx = 16;
        var lines = await server.StreamAsync("/api/generate", new { model = "tiny", prompt = "Go", options = new { temperature = 0, num_ctx = ctx } });
        var final = lines[^1];
        Assert.Equal("length", (string)final["done_reason"]!);
        Assert.Equal(10 * ctx, (int)final["eval_count"]!);
        Assert.True((int)final["context_shifts"]! > 10);
        // The streamed final object carries the context too: the prompt's tokens, then the 160 generated.
        var context = Ids(final["context"]);
        Assert.InRange(context.Count - 10 * ctx, 2, ctx - 1);
        Assert.Equal(Bos, context[0]);
    }

    [Fact]
    public async Task A_shifted_sequence_is_not_reused_from_the_prefix_cache()
    {
        const int ctx = 64;
        const string text = "Shifted cells are moved";
        // One token past the first shift, so the sequence ends holding about half the context.
        var probe = await GenerateAsync(new { model = "tiny", prompt = text, stream = false, options = new { temperature = 0, num_predict = 1, num_ctx = ctx } });
        int predict = ctx - (Ids(probe["context"]).Count - 1) + 1;
        var a = await GenerateAsync(new { model = "tiny", prompt = text, stream = false, options = new { temperature = 0, num_predict = predict, num_ctx = ctx } });
        Assert.Equal(predict, (int)a["eval_count"]!);
        Assert.Equal(1, (int)a["context_shifts"]!);
        var all = Ids(a["context"]);
        var (kv, shifts) = Simulate(all[..^predict], all[^predict..], ctx);
        Assert.Equal(1, shifts);
        Assert.InRange(kv.Count, Keep + 1, ctx / 2 + 4);

        // A follow-up whose prompt starts with exactly the tokens the shifted sequence ended holding: were its
        // cells kept as a cached prefix, they would be reused as if those tokens had been evaluated in that order.
        var followUp = new { model = "tiny", prompt = " and", context = kv, stream = false, options = new { temperature = 0, num_predict = 12, num_ctx = ctx } };
        var warm = await GenerateAsync(followUp);
        var prompt = Ids(warm["context"])[..^(int)warm["eval_count"]!];
        Assert.Equal(kv, prompt[..kv.Count]);
        Assert.Equal(prompt.Count, (int)warm["prompt_eval_count"]!);

        // The same request on a freshly loaded model gives the same answer.
        await server.PostAsync("/api/generate", new { model = "tiny", keep_alive = 0 });
        var cold = await GenerateAsync(followUp);
        Assert.Equal((string)cold["response"]!, (string)warm["response"]!);
        Assert.Equal(prompt.Count, (int)cold["prompt_eval_count"]!);
        Assert.True(await PrometheusText.ScrapeAsync(server.Client, "inference_context_shifts_total{model=\"tiny:latest\"}") >= 1);
    }

    [Fact]
    public async Task A_shift_touches_only_its_own_sequence()
    {
        const int ctx = 48;
        var shifting = new { model = "tiny", prompt = "Many words follow here", stream = false, options = new { temperature = 0, num_predict = 120, num_ctx = ctx } };
        var neighbour = new { model = "tiny", prompt = "A quiet neighbour", shift = false, stream = false, options = new { temperature = 0, num_ctx = ctx } };
        var alone = await GenerateAsync(neighbour);
        Assert.Equal("length", (string)alone["done_reason"]!);

        // Decoded in the same batches while the first one shifts several times: the second's answer is unchanged.
        var both = await Task.WhenAll(GenerateAsync(shifting), GenerateAsync(neighbour));
        Assert.True((int)both[0]["context_shifts"]! >= 2);
        Assert.Equal(120, (int)both[0]["eval_count"]!);
        Assert.Equal((string)alone["response"]!, (string)both[1]["response"]!);
        Assert.Equal((int)alone["eval_count"]!, (int)both[1]["eval_count"]!);
    }

    [Fact]
    public async Task Context_from_an_answer_continues_the_conversation()
    {
        var first = await GenerateAsync(new { model = "stories", prompt = "Lily had a red ball", stream = false, options = new { temperature = 0, num_predict = 10 } });
        var context = Ids(first["context"]);
        Assert.Equal((int)first["prompt_eval_count"]! + 10, context.Count);
        Assert.Equal(Bos, context[0]);

        var second = await GenerateAsync(new { model = "stories", prompt = "She threw it", context, stream = false, options = new { temperature = 0, num_predict = 5 } });
        var next = Ids(second["context"]);
        Assert.Equal(context, next[..context.Count]);
        // One BOS: the new prompt's own is dropped after the context.
        Assert.Equal(1, next.Count(t => t == Bos));

        // Raw prompts get no context back (as Ollama).
        var raw = await GenerateAsync(new { model = "stories", prompt = "Lily", raw = true, stream = false, options = new { num_predict = 2 } });
        Assert.Null(raw["context"]);

        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", context = new[] { 1, 5, -3 }, stream = false });
        Assert.Equal(400, status);
        Assert.Equal("context[2] = -3 is not a token of this model (0 to 511)", (string)r!["error"]!);
        (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", context = new[] { 1, 512 }, stream = false });
        Assert.Equal(400, status);
        Assert.Equal("context[1] = 512 is not a token of this model (0 to 511)", (string)r!["error"]!);
    }
}

/// <summary>The same features through the unmodified ollama npm client (tests/compat/ollama-overflow.mjs).</summary>
public sealed class OllamaClientOverflowTests(OverflowServer server) : IClassFixture<OverflowServer>
{
    [Fact]
    public async Task The_ollama_js_client_sends_truncate_shift_and_context_unchanged()
    {
        var r = await CompatClient.RunAsync("ollama-overflow.mjs", "ollama", new Dictionary<string, string> { ["OLLAMA_URL"] = server.BaseUrl });
        Assert.Equal(67, (int)r["truncated"]!["prompt_eval_count"]!);
        Assert.True((int)r["truncated"]!["truncated_tokens"]! > 0);
        Assert.Equal(400, (int)r["refused"]!["status"]!);
        Assert.Matches(@"^the input length \(\d+ tokens\) exceeds the context length \(128 tokens\)$", (string)r["refused"]!["message"]!);

        Assert.Equal(100, (int)r["shifted"]!["eval_count"]!);
        Assert.True((int)r["shifted"]!["context_shifts"]! >= 1);
        Assert.Equal("length", (string)r["stopped"]!["done_reason"]!);
        Assert.True((int)r["stopped"]!["eval_count"]! < 32);
        Assert.Null(r["stopped"]!["context_shifts"]);

        var first = r["first"]!["context"]!.AsArray().Select(t => (int)t!).ToList();
        var second = r["second"]!["context"]!.AsArray().Select(t => (int)t!).ToList();
        Assert.Equal(first, second[..first.Count]);
        Assert.Equal(6, (int)r["second"]!["eval_count"]!);
    }
}
