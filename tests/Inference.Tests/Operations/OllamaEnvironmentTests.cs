using System.Net;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>
/// Every documented Ollama variable, set in the environment of a real server process (with the
/// shipped appsettings.json next to it), takes effect; our own variables and the command line
/// override it, as the README's precedence says.
/// </summary>
public sealed class OllamaEnvironmentTests
{
    private static Task<HttpResponseMessage> GenerateAsync(HttpClient client, string model) =>
        client.PostAsync("/api/generate", TestServer.JsonContent(new { model, prompt = "Once", stream = false, options = new { num_predict = 2 } }));

    private static async Task<JsonArray> LoadedAsync(HttpClient client) =>
        JsonNode.Parse(await client.GetStringAsync("/api/ps"))!["models"]!.AsArray();

    private static string StartupSettingsLine(ServerProcess server) =>
        server.Output.First(l => l.Contains("parallel sequences per model", StringComparison.Ordinal));

    [Fact]
    public async Task Each_ollama_variable_takes_effect_in_a_started_server()
    {
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}",
            ["--model", $"stories={TestModels.Stories260K}", "--model", $"tiny={TestModels.TinyRandomLlama2}"],
            new Dictionary<string, string>
            {
                ["OLLAMA_HOST"] = $"127.0.0.1:{port}",
                ["OLLAMA_MODELS"] = models.Path,
                ["OLLAMA_KEEP_ALIVE"] = "1h",
                ["OLLAMA_NUM_PARALLEL"] = "3",
                ["OLLAMA_MAX_QUEUE"] = "7",
                ["OLLAMA_MAX_LOADED_MODELS"] = "1",
                ["OLLAMA_ORIGINS"] = "https://app.example.com",
                ["OLLAMA_DEBUG"] = "1",
            });
        await server.WaitReadyAsync(); // OLLAMA_HOST: it listens where the variable says

        // OLLAMA_MODELS: the --model registrations land in that directory.
        Assert.True(File.Exists(Path.Combine(models.Path, "manifests", "registry.ollama.ai", "library", "stories", "latest")));

        // OLLAMA_NUM_PARALLEL and OLLAMA_MAX_QUEUE: the settings the scheduler was started with
        // (what each does is tested in-process: QueueTests, BatchingTests).
        Assert.Contains("3 parallel sequences per model, queue 7, keep-alive 01:00:00", StartupSettingsLine(server));

        // OLLAMA_KEEP_ALIVE: a model used without keep_alive stays loaded for an hour.
        Assert.Equal(HttpStatusCode.OK, (await GenerateAsync(server.Client, "stories")).StatusCode);
        var expires = DateTimeOffset.Parse((string)(await LoadedAsync(server.Client)).Single()!["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));

        // OLLAMA_MAX_LOADED_MODELS=1: loading a second model unloads the idle first one.
        Assert.Equal(HttpStatusCode.OK, (await GenerateAsync(server.Client, "tiny")).StatusCode);
        Assert.Equal("tiny:latest", (string)(await LoadedAsync(server.Client)).Single()!["name"]!);

        // OLLAMA_ORIGINS: that origin gets CORS headers, another does not.
        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/api/tags") { Headers = { { "Origin", "https://app.example.com" } } };
        using var allowedResponse = await server.Client.SendAsync(allowed);
        Assert.Equal("https://app.example.com", allowedResponse.Headers.GetValues("Access-Control-Allow-Origin").Single());
        using var other = new HttpRequestMessage(HttpMethod.Get, "/api/tags") { Headers = { { "Origin", "https://other.example.com" } } };
        using var otherResponse = await server.Client.SendAsync(other);
        Assert.False(otherResponse.Headers.Contains("Access-Control-Allow-Origin"));

        // OLLAMA_DEBUG: debug entries are written.
        Assert.Contains(server.Output, l => l.Contains("\"LogLevel\":\"Debug\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Our_variables_and_the_command_line_override_ollamas()
    {
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}",
            ["--urls", $"http://127.0.0.1:{port}", $"--Inference:ModelsDirectory={models.Path}", "--Inference:KeepAlive=00:02:00",
             "--model", $"stories={TestModels.Stories260K}"],
            new Dictionary<string, string>
            {
                ["OLLAMA_NUM_PARALLEL"] = "3",
                ["Inference__NumParallel"] = "5",
                ["OLLAMA_KEEP_ALIVE"] = "1h",
                ["OLLAMA_MAX_QUEUE"] = "9",
            });
        await server.WaitReadyAsync();
        Assert.Contains("5 parallel sequences per model, queue 9, keep-alive 00:02:00", StartupSettingsLine(server));

        Assert.Equal(HttpStatusCode.OK, (await GenerateAsync(server.Client, "stories")).StatusCode);
        var expires = DateTimeOffset.Parse((string)(await LoadedAsync(server.Client)).Single()!["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2.1));
    }
}
