using System.Text.Json.Nodes;
using Inference.ModelGen;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// A model whose only template is the GGUF's chat template (applied by llama.cpp) can think when that template
/// writes &lt;think&gt; and &lt;/think&gt;, as Ollama decides for such templates; its reasoning is split the same way.
/// </summary>
[Collection("server")]
public sealed class GgufThinkingTests(SharedServer server) : IAsyncLifetime
{
    // A Qwen3-style ChatML template that shows earlier reasoning in think tags.
    private const string Template =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}" +
        "{% if message['reasoning_content'] %}{{ '<think>' + message['reasoning_content'] + '</think>' }}{% endif %}" +
        "{{ message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-thinking-").FullName;

    public async Task InitializeAsync()
    {
        var path = Path.Combine(_dir, "chatml-think.gguf");
        ModelGenerator.WriteF16(ModelPreset.All["tiny"] with { ChatTemplate = Template }, path, seed: 12);
        var (status, r) = await server.PostAsync("/api/create", new { model = "chatml-think", from = path, stream = false });
        Assert.True(status == 200, r?.ToJsonString());
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_gguf_chat_template_with_think_tags_gives_the_thinking_capability_and_the_split()
    {
        var (_, show) = await server.PostAsync("/api/show", new { model = "chatml-think" });
        Assert.Contains("thinking", show!["capabilities"]!.AsArray().Select(c => (string)c!));

        var (status, chat) = await server.PostAsync("/api/chat", new
        {
            model = "chatml-think", stream = false, grammar = "root ::= \"<think>ab</think>cd\"", options = new { temperature = 0 },
            messages = new[] { new { role = "user", content = "the cat" } },
        });
        Assert.Equal(200, status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"role":"assistant","content":"cd","thinking":"ab"}"""), chat!["message"]),
            chat.ToJsonString());
    }
}
