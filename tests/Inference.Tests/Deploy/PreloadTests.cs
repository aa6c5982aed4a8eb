using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Deploy;

/// <summary>Inference:Preload: the server process reports ready only once the listed models are loaded.</summary>
public sealed class PreloadTests
{
    private static Dictionary<string, string> Environment(int port, string models) =>
        new() { ["OLLAMA_HOST"] = $"127.0.0.1:{port}", ["OLLAMA_MODELS"] = models, ["OLLAMA_KEEP_ALIVE"] = "1s" };

    private static async Task<List<string>> LoadedAsync(HttpClient client) =>
        [.. JsonNode.Parse(await client.GetStringAsync("/api/ps"))!["models"]!.AsArray().Select(m => (string)m!["name"]!)];

    [Theory]
    [InlineData("environment")]
    [InlineData("list")]
    public async Task Ready_turns_only_once_the_preloaded_model_is_loaded_and_it_stays_loaded(string form)
    {
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        var env = Environment(port, models.Path);
        List<string> args = ["--model", $"stories={TestModels.Stories260K}"];
        if (form == "environment") env["Inference__Preload"] = "stories";
        else args.Add("--Inference:Preload:0=stories");
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}", args, env);
        await server.WaitReadyAsync();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var ready = await server.Client.GetAsync("/health/ready");
            var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            if ((int)ready.StatusCode == 200)
            {
                Assert.Equal("1 model(s) preloaded", (string)body["checks"]!["preload"]!);
                break;
            }
            Assert.Equal(503, (int)ready.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, "never ready: " + body.ToJsonString());
            await Task.Delay(20);
        }
        Assert.Equal(["stories:latest"], await LoadedAsync(server.Client));
        // Kept loaded beyond the 1 s default keep-alive: a ready replica must not go cold.
        await Task.Delay(2500);
        Assert.Equal(["stories:latest"], await LoadedAsync(server.Client));
    }

    [Fact]
    public async Task Without_preload_ready_does_not_wait_for_any_model()
    {
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}", ["--model", $"stories={TestModels.Stories260K}"], Environment(port, models.Path));
        await server.WaitReadyAsync();
        using var ready = await server.Client.GetAsync("/health/ready");
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal("no models to preload", (string)JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["checks"]!["preload"]!);
        Assert.Empty(await LoadedAsync(server.Client));
    }

    [Fact]
    public async Task A_model_not_in_the_models_directory_fails_start_up_with_one_line()
    {
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        var env = Environment(port, models.Path);
        env["Inference__Preload"] = "stories, nope";
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}", ["--model", $"stories={TestModels.Stories260K}"], env);
        Assert.Equal(2, await server.WaitForExitAsync());
        var errors = server.Output.Where(l => !l.StartsWith('{')).ToList();
        Assert.Equal("configuration error: Inference:Preload: model 'nope' is not in the models directory (pull or create it first)", Assert.Single(errors));
    }

    [Fact]
    public async Task A_model_that_cannot_load_keeps_the_replica_unready_with_the_reason()
    {
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        var env = Environment(port, models.Path);
        env["Inference__Preload"] = "stories";
        env["Inference__MemoryBudgetBytes"] = "1";
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}", ["--model", $"stories={TestModels.Stories260K}"], env);
        await server.WaitReadyAsync();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? reason = null;
        while (reason is null && DateTime.UtcNow < deadline)
        {
            using var ready = await server.Client.GetAsync("/health/ready");
            Assert.Equal(503, (int)ready.StatusCode);
            var check = (string)JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["checks"]!["preload"]!;
            if (check.StartsWith("preloading stories:latest failed: ", StringComparison.Ordinal)) reason = check;
            else await Task.Delay(20);
        }
        Assert.True(reason is not null, "no failure reported");
        Assert.Contains("memory budget (Inference:MemoryBudgetBytes)", reason);
        using var live = await server.Client.GetAsync("/health");
        Assert.Equal(200, (int)live.StatusCode);
        Assert.Empty(await LoadedAsync(server.Client));
    }
}
