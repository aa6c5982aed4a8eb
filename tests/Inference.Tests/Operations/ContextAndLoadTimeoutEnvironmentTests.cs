using System.Text.Json.Nodes;
using Inference.Server.Hosting;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>
/// OLLAMA_CONTEXT_LENGTH and OLLAMA_LOAD_TIMEOUT, read by a server process started with them set, as an
/// Ollama deployment sets them (the test host's own OLLAMA_* variables are removed first).
/// </summary>
public sealed class ContextAndLoadTimeoutEnvironmentTests
{
    private static ServerProcess Start(TempDirectory models, Dictionary<string, string> environment)
    {
        int port = ServerProcess.FreePort();
        return ServerProcess.Start($"http://127.0.0.1:{port}",
            ["--urls", $"http://127.0.0.1:{port}", "--Inference:ModelsDirectory=" + models.Path, "--model", $"stories={TestModels.Stories260K}"],
            environment);
    }

    private static async Task<(int Status, JsonNode? Body)> PostAsync(ServerProcess server, string path, object body)
    {
        using var response = await server.Client.PostAsync(path, TestServer.JsonContent(body));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task OLLAMA_CONTEXT_LENGTH_is_the_num_ctx_of_requests_that_set_none()
    {
        using var models = new TempDirectory();
        await using var server = Start(models, new() { ["OLLAMA_CONTEXT_LENGTH"] = "96" });
        await server.WaitReadyAsync();
        var (status, r) = await PostAsync(server, "/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 2 } });
        Assert.True(status == 200, r?.ToJsonString());
        var ps = JsonNode.Parse(await server.Client.GetStringAsync("/api/ps"))!;
        Assert.Equal(96, (int)ps["models"]![0]!["context_length"]!);

        // A request's num_ctx still wins.
        (status, _) = await PostAsync(server, "/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 2, num_ctx = 48 } });
        Assert.Equal(200, status);
        ps = JsonNode.Parse(await server.Client.GetStringAsync("/api/ps"))!;
        Assert.Equal(48, (int)ps["models"]![0]!["context_length"]!);
    }

    [Fact]
    public async Task A_load_longer_than_OLLAMA_LOAD_TIMEOUT_fails_the_request_and_the_server_goes_on()
    {
        using var models = new TempDirectory();
        // One microsecond: no load is that fast.
        await using var server = Start(models, new() { ["OLLAMA_LOAD_TIMEOUT"] = "1us" });
        await server.WaitReadyAsync();
        var (status, r) = await PostAsync(server, "/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 2 } });
        Assert.Equal(500, status);
        Assert.Equal("timed out loading model 'stories:latest': it took longer than 00:00:00.0000010 (OLLAMA_LOAD_TIMEOUT / Inference:LoadTimeout)",
            (string)r!["error"]!);
        // The abandoned load is freed: nothing stays loaded, and the next request times out the same way (it does not hang).
        for (int i = 0; i < 50 && JsonNode.Parse(await server.Client.GetStringAsync("/api/ps"))!["models"]!.AsArray().Count > 0; i++) await Task.Delay(100);
        Assert.Empty(JsonNode.Parse(await server.Client.GetStringAsync("/api/ps"))!["models"]!.AsArray());
        (status, _) = await PostAsync(server, "/api/generate", new { model = "stories", prompt = "Once", stream = false });
        Assert.Equal(500, status);
        Assert.False(server.Process.HasExited);
    }

    [Fact]
    public async Task The_default_load_timeout_lets_loads_finish()
    {
        using var models = new TempDirectory();
        await using var server = Start(models, new() { ["OLLAMA_LOAD_TIMEOUT"] = "5m" });
        await server.WaitReadyAsync();
        var (status, r) = await PostAsync(server, "/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 2 } });
        Assert.True(status == 200, r?.ToJsonString());
        Assert.Equal(2, (int)r!["eval_count"]!);
    }

    [Theory]
    [InlineData("OLLAMA_CONTEXT_LENGTH", "8", "OLLAMA_CONTEXT_LENGTH='8' is invalid: expected a whole number >= 16")]
    [InlineData("OLLAMA_CONTEXT_LENGTH", "big", "OLLAMA_CONTEXT_LENGTH='big' is invalid: expected a whole number >= 16")]
    [InlineData("OLLAMA_LOAD_TIMEOUT", "soon", "OLLAMA_LOAD_TIMEOUT='soon' is invalid: expected a duration such as 5m or 30s, or a number of seconds")]
    public void Invalid_values_fail_start_up_naming_the_variable(string name, string value, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ServerConfiguration.FromOllamaEnvironment(n => n == name ? value : null));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("30", "00:00:30")]
    [InlineData("10m", "00:10:00")]
    [InlineData("0", "00:00:00")]
    [InlineData("-1", "-00:00:01")]
    public void Load_timeouts_are_go_durations_or_seconds_and_zero_or_negative_is_no_limit(string value, string mapped)
    {
        var m = ServerConfiguration.FromOllamaEnvironment(n => n == "OLLAMA_LOAD_TIMEOUT" ? value : null);
        Assert.Equal(mapped, m["Inference:LoadTimeout"]);
    }
}
