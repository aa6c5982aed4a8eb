using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>The unmodified `ollama` npm client (tests/compat) drives list, show, generate and chat.</summary>
[Collection("server")]
public sealed class OllamaClientCompatibilityTests(SharedServer server)
{
    [Fact]
    public async Task The_ollama_js_client_works_unchanged()
    {
        var r = await CompatClient.RunAsync("ollama-js.mjs", "ollama",
            new Dictionary<string, string> { ["OLLAMA_URL"] = server.BaseUrl, ["MODEL"] = "stories" });
        Assert.Contains(r["models"]!.AsArray(), m => (string)m!["name"]! == "stories:latest" && (string)m["family"]! == "llama");
        Assert.Equal("llama", (string)r["show"]!["family"]!);
        Assert.Equal(16, (int)r["generate"]!["eval_count"]!);
        // Greedy: streamed and non-streamed text are the same story.
        Assert.Equal((string)r["generate"]!["response"]!, (string)r["stream"]!["text"]!);
        Assert.True((bool)r["stream"]!["done"]!);
        Assert.True((int)r["stream"]!["chunks"]! > 1);
        Assert.Equal("assistant", (string)r["chat"]!["role"]!);
        Assert.Equal((string)r["chat"]!["content"]!, (string)r["chatStreamed"]!);
        Assert.Contains("not found", (string)r["missingError"]!["message"]!);
        Assert.Equal(404, (int)r["missingError"]!["status"]!);
    }
}
