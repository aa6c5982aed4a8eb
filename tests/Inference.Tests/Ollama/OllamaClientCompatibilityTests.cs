using System.Diagnostics;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>The unmodified `ollama` npm client (tests/compat) drives list, show, generate and chat.</summary>
[Collection("server")]
public sealed class OllamaClientCompatibilityTests(SharedServer server)
{
    [Fact]
    public async Task The_ollama_js_client_works_unchanged()
    {
        var compat = Path.Combine(TestModels.RepoRoot(), "tests", "compat");
        Assert.True(Directory.Exists(Path.Combine(compat, "node_modules", "ollama")), "run scripts/test.sh (it installs tests/compat)");

        var psi = new ProcessStartInfo("node", "ollama-js.mjs")
        {
            WorkingDirectory = compat,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["OLLAMA_URL"] = server.BaseUrl;
        psi.Environment["MODEL"] = "stories";
        using var node = Process.Start(psi)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        Assert.True(node.WaitForExit(TimeSpan.FromMinutes(2)), "node client timed out");
        Assert.True(node.ExitCode == 0, await stderr);

        var r = JsonNode.Parse(await stdout)!;
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
