using System.Net;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>--model registrations as the README shows them: paths relative to where the server is started.</summary>
public sealed class StartupArgumentsTests
{
    private static Dictionary<string, string> Environment(int port, string models) =>
        new() { ["OLLAMA_HOST"] = $"127.0.0.1:{port}", ["OLLAMA_MODELS"] = models };

    [Fact]
    public async Task The_readmes_run_server_example_works_from_the_repository_root()
    {
        using var models = new TempDirectory();
        var root = TestModels.RepoRoot();
        var relative = Path.GetRelativePath(root, TestModels.Stories260K); // "../shared/models/stories260K.gguf" in a standard checkout
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.StartProgram("bash", ["scripts/run-server.sh", "--model", $"stories={relative}"],
            $"http://127.0.0.1:{port}", Environment(port, models.Path), workingDirectory: root);
        await server.WaitReadyAsync(seconds: 180); // the script builds first

        var (status, body) = await PostGenerateAsync(server.Client);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, (int)body!["eval_count"]!);
        // The README's next step: the web console's address is printed once the server listens.
        Assert.Contains(server.Output, l => l.Contains($"Web console: http://127.0.0.1:{port}/ui/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_relative_path_means_the_callers_directory()
    {
        using var models = new TempDirectory();
        var cwd = Path.GetDirectoryName(TestModels.Directory)!;
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}",
            ["--model", $"stories={Path.GetRelativePath(cwd, TestModels.Stories260K)}"], Environment(port, models.Path), workingDirectory: cwd);
        await server.WaitReadyAsync();
        Assert.Equal(HttpStatusCode.OK, (await PostGenerateAsync(server.Client)).Status);
    }

    [Theory]
    [InlineData("stories=missing/stories260K.gguf", "configuration error: --model stories: no such file: {cwd}/missing/stories260K.gguf")]
    [InlineData("stories", "configuration error: --model expects name=path/to/file.gguf, got 'stories'")]
    [InlineData("Bad Name!=x.gguf", "configuration error: --model Bad Name!: ")]
    [InlineData("stories=/etc/hostname", "configuration error: --model stories: invalid model file: not a GGUF file (bad magic)")]
    public async Task A_bad_registration_is_one_line_and_exit_code_two(string argument, string expected)
    {
        using var models = new TempDirectory();
        var cwd = models.Path;
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}", ["--model", argument], Environment(port, models.Path), workingDirectory: cwd);
        Assert.Equal(2, await server.WaitForExitAsync());
        var errors = server.Output.Where(l => !l.StartsWith('{')).ToList(); // JSON lines are the log; the rest is stderr's message
        Assert.StartsWith(expected.Replace("{cwd}", cwd, StringComparison.Ordinal), Assert.Single(errors));
        Assert.DoesNotContain(server.Output, l => l.Contains("   at ", StringComparison.Ordinal)); // no stack trace anywhere
        Assert.False(Directory.Exists(Path.Combine(models.Path, "manifests", "registry.ollama.ai", "library", "stories")));
    }

    private static async Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode? Body)> PostGenerateAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/api/generate",
            TestServer.JsonContent(new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 3 } }));
        return (response.StatusCode, System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync()));
    }
}
