using Inference.ModelGen;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// A generated model whose GGUF carries a chat template (ChatML) and fill-in-the-middle tokens,
/// neither of which the shared test models have: the prompt must be rendered by llama.cpp's
/// template support, and a suffix must produce a FIM prompt.
/// </summary>
[Collection("server")]
public sealed class GgufTemplateAndFimTests(SharedServer server) : IAsyncLifetime
{
    private const string ChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-template-").FullName;

    public async Task InitializeAsync()
    {
        var path = Path.Combine(_dir, "chatml-fim.gguf");
        ModelGenerator.WriteF16(ModelPreset.All["tiny"] with { ChatTemplate = ChatMl, FimTokens = true }, path, seed: 11);
        var (status, r) = await server.PostAsync("/api/create", new { model = "chatml", from = path, stream = false });
        Assert.Equal(200, status);
        Assert.Equal("success", (string)r!["status"]!);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Show_reports_the_gguf_chat_template_and_insert_capability()
    {
        var (_, show) = await server.PostAsync("/api/show", new { model = "chatml" });
        Assert.Equal(ChatMl, (string)show!["template"]!);
        Assert.Contains("insert", show["capabilities"]!.AsArray().Select(c => (string)c!));
        Assert.Equal("F16", (string)show["details"]!["quantization_level"]!);
    }

    [Fact]
    public async Task Chat_is_rendered_by_llama_cpps_template_support()
    {
        var options = new { temperature = 0, num_predict = 6 };
        var messages = new[] { new { role = "system", content = "be brief" }, new { role = "user", content = "the cat sat" } };
        var (_, chat) = await server.PostAsync("/api/chat", new { model = "chatml", messages, options, stream = false });
        const string rendered = "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nthe cat sat<|im_end|>\n<|im_start|>assistant\n";
        var (_, raw) = await server.PostAsync("/api/generate", new { model = "chatml", prompt = rendered, raw = true, options, stream = false });

        Assert.Equal((string)raw!["response"]!, (string)chat!["message"]!["content"]!);
        // Both prompts are the same tokens (the second one is served from the prefix cache, so count both parts).
        Assert.Equal(6, (int)chat["eval_count"]!);
        Assert.True((int)chat["prompt_eval_count"]! > 10);
    }

    [Fact]
    public async Task A_suffix_builds_a_fill_in_the_middle_prompt()
    {
        var options = new { temperature = 0, num_predict = 4 };
        const string cached = "inference_prompt_tokens_cached_total{model=\"chatml:latest\"}";
        double before = await PrometheusText.ScrapeAsync(server.Client, cached);
        var (status, fim) = await server.PostAsync("/api/generate", new { model = "chatml", prompt = "the cat", suffix = "the mat", options, stream = false });
        double reused = await PrometheusText.ScrapeAsync(server.Client, cached) - before;
        Assert.Equal(200, status);
        // BOS, <PRE>, "the cat" (2 words), <SUF>, "the mat" (2 words), <MID>: evaluated or reused from the cache.
        Assert.Equal(8, (int)fim!["prompt_eval_count"]! + (int)reused);
        Assert.Equal(4, (int)fim["eval_count"]!);
    }
}
