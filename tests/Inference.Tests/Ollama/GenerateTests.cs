using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>/api/generate end to end over HTTP with the real stories260K model.</summary>
[Collection("server")]
public sealed class GenerateTests(SharedServer server)
{
    private static object Greedy(int numPredict, string[]? stop = null) =>
        stop is null
            ? new { temperature = 0, num_predict = numPredict }
            : new { temperature = 0, num_predict = numPredict, stop };

    [Fact]
    public async Task Greedy_generation_is_deterministic_and_readable_english()
    {
        var body = new { model = "stories", prompt = "Once upon a time", stream = false, options = Greedy(40) };
        var (s1, first) = await server.PostAsync("/api/generate", body);
        var (s2, second) = await server.PostAsync("/api/generate", body);

        Assert.Equal(200, s1);
        Assert.Equal(200, s2);
        var text = (string)first!["response"]!;
        Assert.Equal(text, (string)second!["response"]!);
        // stories260K continues a fairy tale: plain English words, and the story's usual opening.
        Assert.Contains("there was", text);
        Assert.Matches(@"^[A-Za-z ,.'!?""\n-]+$", text);
        Assert.Equal("stories", (string)first["model"]!);
        Assert.True((bool)first["done"]!);
    }

    [Fact]
    public async Task A_json_body_is_read_whatever_content_type_the_client_sends()
    {
        // curl -d sends application/x-www-form-urlencoded; Ollama reads the body as JSON regardless.
        var body = new StringContent("{\"model\":\"stories\",\"prompt\":\"Once\",\"stream\":false,\"options\":{\"num_predict\":2}}",
            System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await server.Client.PostAsync("/api/generate", body);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(2, (int)System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["eval_count"]!);
    }

    [Fact]
    public async Task Streamed_pieces_concatenate_to_the_non_streamed_response_for_the_same_seed()
    {
        var options = new { temperature = 0.9, seed = 1234, num_predict = 48 };
        var (_, whole) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "The cat", stream = false, options });
        var lines = await server.StreamAsync("/api/generate", new { model = "stories", prompt = "The cat", options });

        var streamed = string.Concat(lines.Select(l => (string)l["response"]!));
        Assert.Equal((string)whole!["response"]!, streamed);
        Assert.True(lines.Count > 2);
        Assert.All(lines[..^1], l => Assert.False((bool)l["done"]!));
        var final = lines[^1];
        Assert.True((bool)final["done"]!);
        Assert.Equal("", (string)final["response"]!);
        Assert.Equal((int)whole["eval_count"]!, (int)final["eval_count"]!);
    }

    [Fact]
    public async Task Final_object_reports_measured_counts_and_durations()
    {
        // Loaded first, so this request spends no time loading (a cold load is measured in LifecycleTests).
        Assert.Equal(200, (await server.PostAsync("/api/generate", new { model = "stories" })).Status);
        var (status, r) = await server.PostAsync("/api/generate",
            new { model = "stories", prompt = "A dog ran to the big tree", stream = false, options = new { temperature = 0, num_predict = 12, repeat_penalty = 1.0 } });

        Assert.Equal(200, status);
        Assert.Equal(12, (int)r!["eval_count"]!);
        Assert.Equal("length", (string)r["done_reason"]!);
        // BOS + the prompt's tokens, as the model's own tokenizer splits them (a prompt no other test uses, so nothing is cached).
        Assert.True((int)r["prompt_eval_count"]! is > 6 and < 16);
        long total = (long)r["total_duration"]!, prompt = (long)r["prompt_eval_duration"]!, eval = (long)r["eval_duration"]!;
        Assert.True(prompt > 0 && eval > 0, "durations are measured around real decode calls");
        Assert.True(total >= prompt + eval, "total covers prompt and generation");
        Assert.Equal(0, (long)r["load_duration"]!);
        Assert.NotNull(r["created_at"]);
    }

    [Fact]
    public async Task Stop_sequence_ends_output_before_the_stop_text()
    {
        var (_, full) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once upon a time", stream = false, options = Greedy(60) });
        var fullText = (string)full!["response"]!;
        int at = fullText.IndexOf("Lily", StringComparison.Ordinal);
        Assert.True(at > 0, $"greedy story mentions Lily: {fullText}");

        var (_, stopped) = await server.PostAsync("/api/generate",
            new { model = "stories", prompt = "Once upon a time", stream = false, options = Greedy(60, ["Lily"]) });
        Assert.Equal(fullText[..at], (string)stopped!["response"]!);
        Assert.Equal("stop", (string)stopped["done_reason"]!);

        // Streaming must not leak a partial stop string either.
        var lines = await server.StreamAsync("/api/generate", new { model = "stories", prompt = "Once upon a time", options = Greedy(60, ["Lily"]) });
        Assert.Equal(fullText[..at], string.Concat(lines.Select(l => (string)l["response"]!)));
    }

    [Fact]
    public async Task System_prompt_and_raw_mode_shape_the_prompt()
    {
        var plain = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once upon a time", stream = false, options = Greedy(8) });
        var raw = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once upon a time", raw = true, stream = false, options = Greedy(8) });
        var withSystem = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once upon a time", system = "Tom had a dog.", stream = false, options = Greedy(8) });

        // The fallback template renders a lone prompt exactly as raw mode does...
        Assert.Equal((int)plain.Body!["prompt_eval_count"]!, (int)raw.Body!["prompt_eval_count"]!);
        Assert.Equal((string)plain.Body["response"]!, (string)raw.Body["response"]!);
        // ...and puts the system text in front of it.
        Assert.True((int)withSystem.Body!["prompt_eval_count"]! > (int)plain.Body["prompt_eval_count"]!);
    }

    [Fact]
    public async Task Multi_byte_text_is_never_split_across_pieces()
    {
        // The 32k Llama-2 vocabulary has byte-fallback tokens; with random weights many pieces are partial UTF-8.
        var options = new { temperature = 1.5, top_k = 0, top_p = 1.0, seed = 7, num_predict = 120 };
        var lines = await server.StreamAsync("/api/generate", new { model = "tiny", prompt = "日本語のテキスト", options });
        var (_, whole) = await server.PostAsync("/api/generate", new { model = "tiny", prompt = "日本語のテキスト", stream = false, options });

        foreach (var piece in lines.Select(l => (string)l["response"]!))
        {
            for (int i = 0; i < piece.Length; i++)
            {
                if (char.IsHighSurrogate(piece[i])) Assert.True(i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]), "a surrogate pair was split");
                else Assert.False(char.IsLowSurrogate(piece[i]) && (i == 0 || !char.IsHighSurrogate(piece[i - 1])), "a surrogate pair was split");
            }
        }
        Assert.Equal((string)whole!["response"]!, string.Concat(lines.Select(l => (string)l["response"]!)));
        Assert.Equal(120, (int)lines[^1]["eval_count"]!);
    }
}
