using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>The unmodified `openai` npm client (tests/compat) drives /v1 models, chat (plain and streamed) and completions.</summary>
[Collection("server")]
public sealed class OpenAIClientCompatibilityTests(SharedServer server)
{
    [Fact]
    public async Task The_openai_js_client_works_unchanged()
    {
        await ToolTemplates.CreateModelsAsync(server);
        var r = await CompatClient.RunAsync("openai-js.mjs", "openai", new Dictionary<string, string>
        {
            ["OPENAI_BASE_URL"] = server.BaseUrl + "/v1", ["MODEL"] = "stories", ["TOOLS_MODEL"] = "qwen-tools",
        });
        Assert.Contains("stories:latest", r["models"]!.AsArray().Select(m => (string)m!));
        Assert.Equal("stories:latest", (string)r["retrieved"]!);

        var chat = r["chat"]!;
        Assert.Equal("chat.completion", (string)chat["object"]!);
        Assert.Equal("assistant", (string)chat["role"]!);
        Assert.Equal("length", (string)chat["finish"]!);
        Assert.Equal(12, (int)chat["usage"]!["completion_tokens"]!);
        Assert.Equal((int)chat["usage"]!["prompt_tokens"]! + 12, (int)chat["usage"]!["total_tokens"]!);

        // Greedy: the streamed text is the same completion; usage comes in the last chunk.
        var stream = r["stream"]!;
        Assert.Equal((string)chat["content"]!, (string)stream["text"]!);
        Assert.Equal("length", (string)stream["finish"]!);
        Assert.True((int)stream["chunks"]! > 3);
        Assert.Equal(12, (int)stream["usage"]!["completion_tokens"]!);
        // The same prompt again: its tokens (all but the last) came from the prefix cache and are reported so.
        Assert.Equal((int)chat["usage"]!["prompt_tokens"]!, (int)stream["usage"]!["prompt_tokens"]!);
        Assert.Equal((int)stream["usage"]!["prompt_tokens"]! - 1, (int)stream["usage"]!["prompt_tokens_details"]!["cached_tokens"]!);

        var completion = r["completion"]!;
        Assert.Equal("text_completion", (string)completion["object"]!);
        Assert.DoesNotContain(".", (string)completion["text"]!);
        Assert.Equal("stop", (string)completion["finish"]!);

        Assert.Equal(2, (int)r["embeddings"]!["count"]!);
        Assert.Equal(64, (int)r["embeddings"]!["length"]!); // the client asked for base64 and decoded it

        // Tool calls: a required call, the same through the client's stream helper, and the result sent back.
        var tools = r["tools"]!;
        Assert.Equal("tool_calls", (string)tools["finish"]!);
        Assert.Null(tools["content"]);
        foreach (var calls in new[] { tools["calls"]!.AsArray(), tools["streamed"]!["calls"]!.AsArray() })
        {
            var call = Assert.Single(calls)!;
            Assert.Equal("function", (string)call["type"]!);
            Assert.Equal("get_weather", (string)call["function"]!["name"]!);
            var city = JsonNode.Parse((string)call["function"]!["arguments"]!)!["city"];
            Assert.True(((string)city!).Length <= 16);
        }
        Assert.Equal("tool_calls", (string)tools["streamed"]!["finish"]!);
        Assert.Equal("assistant", (string)tools["answer"]!["role"]!);

        Assert.Equal(404, (int)r["missing"]!["status"]!);
        Assert.Equal("model \"no-such-model\" not found, try pulling it first", (string)r["missing"]!["message"]!);
        Assert.Equal("model_not_found", (string)r["missing"]!["code"]!);
    }
}
