using System.Text.Json.Nodes;
using Inference.Engine.Generation;
using Inference.Engine.Gguf;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>POST /api/tokenize and /api/detokenize over HTTP with both real test models, without loading them.</summary>
[Collection("server")]
public sealed class TokenizeTests(SharedServer server)
{
    /// <summary>A model's tokens as its GGUF lists them, read independently of llama.cpp.</summary>
    private static IReadOnlyList<string> Pieces(string path) =>
        ((IReadOnlyList<object?>)GgufFile.Read(path).Metadata["tokenizer.ggml.tokens"]!).Select(p => (string)p!).ToList();

    private async Task UnloadAsync(string model) => await server.PostAsync("/api/generate", new { model, keep_alive = 0 });

    private async Task<IReadOnlyList<string>> LoadedAsync() =>
        (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray().Select(m => (string)m!["name"]!).ToList();

    private async Task<int[]> TokenizeAsync(string model, string content)
    {
        var (status, r) = await server.PostAsync("/api/tokenize", new { model, content });
        Assert.Equal(200, status);
        Assert.Equal(model, (string)r!["model"]!);
        return r["tokens"]!.AsArray().Select(t => (int)t!).ToArray();
    }

    private async Task<string> DetokenizeAsync(string model, int[] tokens)
    {
        var (status, r) = await server.PostAsync("/api/detokenize", new { model, tokens });
        Assert.Equal(200, status);
        Assert.Equal(model, (string)r!["model"]!);
        return (string)r["content"]!;
    }

    [Theory]
    [InlineData("stories", "Once upon a time, there was a little girl named Lily.")]
    [InlineData("tiny", "Hello world! The quick brown fox jumps over the lazy dog.")]
    public async Task Text_round_trips_without_loading_the_model_and_counts_as_a_raw_prompt(string model, string content)
    {
        await UnloadAsync(model);
        var pieces = Pieces(model == "stories" ? TestModels.Stories260K : TestModels.TinyRandomLlama2);

        var tokens = await TokenizeAsync(model, content);
        Assert.Equal(content, await DetokenizeAsync(model, tokens));
        // Neither call loaded the model: its vocabulary was read on its own.
        Assert.DoesNotContain($"{model}:latest", await LoadedAsync());
        Assert.InRange(server.Get<Vocabularies>().CachedCount, 1, Vocabularies.MaxCached);

        // The ids are the GGUF's own: BOS (<s>, which both models add), then pieces that spell " " + the text
        // (SentencePiece writes spaces as "▁" and puts one before the text).
        Assert.Equal("<s>", pieces[tokens[0]]);
        Assert.Equal(" " + content, string.Concat(tokens.Skip(1).Select(t => pieces[t])).Replace('▁', ' '));

        // A raw prompt of the same text evaluates exactly these tokens (cold: nothing is cached after the unload).
        var (status, generated) = await server.PostAsync("/api/generate", new
        {
            model, prompt = content, raw = true, stream = false, options = new { num_predict = 1, temperature = 0 },
        });
        Assert.Equal(200, status);
        Assert.Equal(tokens.Length, (int)generated!["prompt_eval_count"]!);

        // Now loaded: the loaded model's tokenizer answers the same, and the model stays loaded.
        Assert.Contains($"{model}:latest", await LoadedAsync());
        Assert.Equal(tokens, await TokenizeAsync(model, content));
        Assert.Equal(content, await DetokenizeAsync(model, tokens));
    }

    [Fact]
    public async Task Special_and_non_ascii_text_round_trips()
    {
        // Byte-fallback tokens (a character split over several ids) and a control token written in the text.
        const string content = "Grüße, 日本! <s> x";
        var tokens = await TokenizeAsync("tiny", content);
        Assert.Equal(content, await DetokenizeAsync("tiny", tokens));
        Assert.Equal(tokens, await TokenizeAsync("tiny", await DetokenizeAsync("tiny", tokens)));
        // The leading BOS is the model's own and left out; "▁x" after a special token loses the space the tokenizer added.
        Assert.Equal("<s>x", await DetokenizeAsync("tiny", [1, 1, tokens[^1]]));
        Assert.Equal(2, tokens.Count(t => t == 1)); // the added BOS, and "<s>" parsed as the control token it names
        Assert.Empty(await TokenizeAsync("stories", ""));
        Assert.Equal("", await DetokenizeAsync("stories", []));
    }

    [Theory]
    [InlineData("[1, 512]", "tokens[1] is 512, outside the vocabulary of stories:latest (ids 0 to 511)")]
    [InlineData("[-1]", "tokens[0] is -1, outside the vocabulary of stories:latest (ids 0 to 511)")]
    [InlineData("[1, 2, 99999999999]", "tokens[2] is 99999999999, outside the vocabulary of stories:latest (ids 0 to 511)")]
    public async Task Ids_outside_the_vocabulary_are_refused_by_name(string tokens, string message)
    {
        Assert.Equal(512, Pieces(TestModels.Stories260K).Count);
        var (status, text) = await server.PostRawAsync("/api/detokenize", "{\"model\":\"stories\",\"tokens\":" + tokens + "}");
        Assert.Equal(400, status);
        Assert.Equal(message, (string)JsonNode.Parse(text)!["error"]!);
    }

    [Theory]
    [InlineData("/api/tokenize", "{\"model\":\"nope\",\"content\":\"x\"}", 404, "model 'nope' not found")]
    [InlineData("/api/detokenize", "{\"model\":\"nope\",\"tokens\":[1]}", 404, "model 'nope' not found")]
    [InlineData("/api/tokenize", "{\"model\":\"stories\"}", 400, "content is required")]
    [InlineData("/api/detokenize", "{\"model\":\"stories\"}", 400, "tokens is required")]
    [InlineData("/api/tokenize", "{\"content\":\"x\"}", 400, "model is required")]
    public async Task Bad_requests_get_ollamas_error_shape(string path, string body, int expected, string message)
    {
        var (status, text) = await server.PostRawAsync(path, body);
        Assert.Equal(expected, status);
        Assert.Equal(message, (string)JsonNode.Parse(text)!["error"]!);
    }

    [Fact]
    public async Task Unreadable_token_lists_are_a_400()
    {
        var (status, text) = await server.PostRawAsync("/api/detokenize", "{\"model\":\"stories\",\"tokens\":[\"a\"]}");
        Assert.Equal(400, status);
        Assert.NotNull((string?)JsonNode.Parse(text)!["error"]);
    }
}
