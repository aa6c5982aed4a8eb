using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>Bad input gets Ollama's {"error": "..."} shape with the right status, never a 500.</summary>
[Collection("server")]
public sealed class ErrorTests(SharedServer server)
{
    [Theory]
    [InlineData("/api/generate")]
    [InlineData("/api/chat")]
    [InlineData("/api/show")]
    public async Task Unknown_model_is_404_with_ollamas_message(string path)
    {
        var (status, r) = await server.PostAsync(path, new { model = "nope:1b", prompt = "x", messages = new[] { new { role = "user", content = "x" } } });
        Assert.Equal(404, status);
        Assert.Equal("model 'nope:1b' not found", (string)r!["error"]!);
    }

    [Fact]
    public async Task Malformed_json_is_400()
    {
        var (status, text) = await server.PostRawAsync("/api/generate", "{\"model\": \"stories\", \"prompt\": ");
        Assert.Equal(400, status);
        Assert.StartsWith("{\"error\":\"invalid JSON", text);
    }

    [Fact]
    public async Task Wrong_type_names_the_field()
    {
        var (status, text) = await server.PostRawAsync("/api/generate", "{\"model\":\"stories\",\"prompt\":\"x\",\"options\":{\"num_predict\":\"many\"}}");
        Assert.Equal(400, status);
        Assert.Equal("{\"error\":\"invalid request: field 'options.num_predict' has the wrong type\"}", text);

        (status, text) = await server.PostRawAsync("/api/chat", "{\"model\":\"stories\",\"messages\":\"hello\"}");
        Assert.Equal(400, status);
        Assert.Equal("{\"error\":\"invalid request: field 'messages' has the wrong type\"}", text);
    }

    [Fact]
    public async Task Negative_num_predict_is_400()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", options = new { num_predict = -5 } });
        Assert.Equal(400, status);
        Assert.Contains("num_predict", (string)r!["error"]!);
    }

    [Fact]
    public async Task Missing_model_and_empty_body_are_400()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { prompt = "x" });
        Assert.Equal(400, status);
        Assert.Equal("model is required", (string)r!["error"]!);

        var (emptyStatus, emptyText) = await server.PostRawAsync("/api/chat", "");
        Assert.Equal(400, emptyStatus);
        Assert.Equal("{\"error\":\"missing request body\"}", emptyText);
    }

    [Fact]
    public async Task Images_and_unsupported_features_say_so()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", images = new[] { "aGVsbG8=" } });
        Assert.Equal(400, status);
        Assert.Contains("images are not supported", (string)r!["error"]!);

        (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", suffix = "y" });
        Assert.Equal(400, status);
        Assert.Equal("stories:latest does not support insert (no fill-in-the-middle tokens)", (string)r!["error"]!);
    }

    [Fact]
    public async Task A_prompt_that_writes_its_spaces_as_U2581_is_measured_as_the_tokenizer_reads_it()
    {
        // SentencePiece reads "▁" like a space, so "▁friend" (9 bytes) is one token: 200 of them fit
        // 256 tokens although they are 1800 bytes, more than 256 x 7 (the piece's length with a plain space).
        var prompt = string.Concat(Enumerable.Repeat("\u2581friend", 200));
        Assert.Equal(1800, System.Text.Encoding.UTF8.GetByteCount(prompt));
        var (status, r) = await server.PostAsync("/api/generate",
            new { model = "stories", prompt, raw = true, stream = false, options = new { num_ctx = 256, num_predict = 1 } });
        Assert.True(status == 200, r?.ToJsonString());
        Assert.InRange((int)r!["prompt_eval_count"]!, 200, 203);
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_is_a_clear_400()
    {
        // Short enough in bytes to be tokenized (256 tokens x 9 bytes, stories' longest piece "▁friend"), too many tokens.
        Assert.Equal(9, TestModels.LongestPieceBytes(TestModels.Stories260K));
        var prompt = string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 70));
        Assert.True(prompt.Length <= 256 * 9);
        var (status, r) = await server.PostAsync("/api/generate",
            new { model = "stories", prompt, truncate = false, stream = false, options = new { num_ctx = 256 } });
        Assert.Equal(400, status);
        Assert.Matches(@"^the input length \(\d+ tokens\) exceeds the context length \(256 tokens\)$", (string)r!["error"]!);

        // Longer than 256 tokens can spell: refused by its length, before it is tokenized. A raw prompt is measured
        // whole; a templated one is rendered only until it passes 256 x 9 bytes.
        var longPrompt = string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 200));
        (status, r) = await server.PostAsync("/api/generate",
            new { model = "stories", prompt = longPrompt, raw = true, truncate = false, stream = false, options = new { num_ctx = 256 } });
        Assert.Equal(400, status);
        Assert.Equal("the input length (4800 bytes, so at least 534 tokens at 9 bytes per token, the longest in the model's vocabulary) " +
            "exceeds the context length (256 tokens)", (string)r!["error"]!);
        (status, r) = await server.PostAsync("/api/generate",
            new { model = "stories", prompt = longPrompt, truncate = false, stream = false, options = new { num_ctx = 256 } });
        Assert.Equal(400, status);
        Assert.Equal("the input length (more than 2304 bytes, so at least 257 tokens at 9 bytes per token, the longest in the model's vocabulary) " +
            "exceeds the context length (256 tokens)", (string)r!["error"]!);
    }

    [Fact]
    public async Task Invalid_keep_alive_is_400()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", keep_alive = "soon" });
        Assert.Equal(400, status);
        Assert.StartsWith("invalid keep_alive", (string)r!["error"]!);
    }
}
