using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>The unmodified `ollama` npm client (tests/compat) drives list, show, generate and chat.</summary>
[Collection("server")]
public sealed class OllamaClientCompatibilityTests(SharedServer server)
{
    [Fact]
    public async Task The_ollama_js_client_works_unchanged()
    {
        await ToolTemplates.CreateModelsAsync(server);
        var r = await CompatClient.RunAsync("ollama-js.mjs", "ollama",
            new Dictionary<string, string> { ["OLLAMA_URL"] = server.BaseUrl, ["MODEL"] = "stories", ["TOOLS_MODEL"] = "llama-tools" });
        Assert.Contains(r["models"]!.AsArray(), m => (string)m!["name"]! == "stories:latest" && (string)m["family"]! == "llama");
        Assert.Equal("llama", (string)r["show"]!["family"]!);
        Assert.Equal(16, (int)r["generate"]!["eval_count"]!);
        // Greedy: streamed and non-streamed text are the same story.
        Assert.Equal((string)r["generate"]!["response"]!, (string)r["stream"]!["text"]!);
        Assert.True((bool)r["stream"]!["done"]!);
        Assert.True((int)r["stream"]!["chunks"]! > 1);
        Assert.Equal("assistant", (string)r["chat"]!["role"]!);
        Assert.Equal((string)r["chat"]!["content"]!, (string)r["chatStreamed"]!);
        // A call comes back as message.tool_calls with an arguments object; the follow-up with the result works.
        var call = Assert.Single(r["tools"]!["calls"]!.AsArray())!;
        Assert.Equal("get_weather", (string)call["function"]!["name"]!);
        Assert.True(((string)call["function"]!["arguments"]!["city"]!).Length <= 16);
        Assert.Equal("", (string)r["tools"]!["content"]!);
        Assert.Equal("assistant", (string)r["tools"]!["answer"]!["role"]!);
        Assert.True((bool)r["tools"]!["answer"]!["done"]!);
        Assert.Contains("not found", (string)r["missingError"]!["message"]!);
        Assert.Equal(404, (int)r["missingError"]!["status"]!);
    }
}
