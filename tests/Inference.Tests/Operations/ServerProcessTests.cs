using System.Net;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>The server as an operator runs it: a separate process, signals and exit codes.</summary>
public sealed class ServerProcessTests
{
    private static ServerProcess Start(TempDirectory models, params string[] settings)
    {
        int port = ServerProcess.FreePort();
        return ServerProcess.Start($"http://127.0.0.1:{port}",
            ["--urls", $"http://127.0.0.1:{port}", "--Inference:ModelsDirectory=" + models.Path, .. settings]);
    }

    [Fact]
    public async Task A_backend_that_cannot_load_fails_readiness_but_the_process_keeps_serving()
    {
        using var models = new TempDirectory();
        await using var server = Start(models, "--Inference:Backend=Cuda");
        await server.WaitReadyAsync();
        using var ready = await server.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal("Unhealthy", (string)body["status"]!);
        Assert.False(string.IsNullOrEmpty((string)body["checks"]!["llama.cpp backend"]!));
        Assert.Equal("Ollama is running", await server.Client.GetStringAsync("/"));
        Assert.False(server.Process.HasExited);
    }

    [Fact]
    public async Task Sigterm_shuts_down_cleanly_with_exit_code_zero()
    {
        using var models = new TempDirectory();
        await using var server = Start(models);
        await server.WaitReadyAsync();
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", server.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            kill.WaitForExit();
        Assert.Equal(0, await server.WaitForExitAsync(seconds: 30));
    }
}
