using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>n &gt; 1 and legacy completion logprobs through the unmodified `openai` npm client (tests/compat/openai-choices.mjs).</summary>
[Collection("server")]
public sealed class ChoicesClientTests(SharedServer server)
{
    [Fact]
    public async Task The_openai_js_client_reads_n_choices_unchanged()
    {
        var r = await CompatClient.RunAsync("openai-choices.mjs", "openai", new Dictionary<string, string>
        {
            ["OPENAI_BASE_URL"] = server.BaseUrl + "/v1", ["MODEL"] = "stories",
        });

        var chat = r["chat"]!;
        var choices = chat["choices"]!.AsArray();
        Assert.Equal([0, 1, 2], choices.Select(c => (int)c!["index"]!));
        Assert.All(choices, c => Assert.Equal("length", (string)c!["finish"]!));
        Assert.Equal(18, (int)chat["usage"]!["completion_tokens"]!);
        var texts = choices.Select(c => (string)c!["content"]!).ToList();
        Assert.True(texts.Distinct().Count() > 1, string.Join(" | ", texts));

        // The same seed streamed: the client sorts the chunks into the same three choices.
        var stream = r["stream"]!;
        Assert.Equal(texts, Enumerable.Range(0, 3).Select(i => (string)stream["texts"]![i.ToString()]!));
        Assert.Equal(18, (int)stream["usage"]!["completion_tokens"]!);
        Assert.Equal((int)chat["usage"]!["prompt_tokens"]!, (int)stream["usage"]!["prompt_tokens"]!);

        var completion = r["completion"]!;
        Assert.Equal(8, (int)completion["usage"]!["completion_tokens"]!);
        foreach (var choice in completion["choices"]!.AsArray())
        {
            var logprobs = choice!["logprobs"]!;
            var tokens = logprobs["tokens"]!.AsArray().Select(t => (string)t!).ToList();
            Assert.Equal(4, tokens.Count);
            Assert.Equal((string)choice["text"]!, string.Concat(tokens));
            Assert.Equal(4, logprobs["token_logprobs"]!.AsArray().Count);
            Assert.All(logprobs["top_logprobs"]!.AsArray(), t => Assert.InRange(t!.AsObject().Count, 1, 2));
            Assert.Equal(0, (int)logprobs["text_offset"]![0]!);
        }

        Assert.Equal(400, (int)r["tooMany"]!["status"]!);
        Assert.Equal("n must be between 1 and 8", (string)r["tooMany"]!["message"]!);
        Assert.Equal("n", (string)r["tooMany"]!["param"]!);
    }
}
