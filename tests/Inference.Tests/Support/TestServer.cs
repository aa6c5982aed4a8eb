using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Tests.Support;

/// <summary>
/// The real server on a free loopback port with its own temporary models directory, reached over
/// real HTTP. Models are registered the way an operator would: with --model name=path.
/// </summary>
public class TestServer : IAsyncLifetime
{
    private WebApplication? _app;

    public string ModelsDirectory { get; } = Path.Combine(Path.GetTempPath(), "inference-tests-" + Guid.NewGuid().ToString("N"));
    public HttpClient Client { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public IServiceProvider Services => _app!.Services;

    /// <summary>Extra command-line settings for a test class's server.</summary>
    protected virtual IEnumerable<string> Settings => [];

    /// <summary>Extra services for a test class's server (e.g. a log capture).</summary>
    protected virtual void Configure(WebApplicationBuilder builder)
    {
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(ModelsDirectory);
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            $"--Inference:ModelsDirectory={ModelsDirectory}",
            "--Logging:LogLevel:Default=Warning",
            // Tests write GGUF files under the temp folder and create models from them with "from",
            // as an operator allows by listing a directory here.
            $"--Inference:ImportDirectories:0={Path.GetTempPath()}",
            "--model", $"stories={TestModels.Stories260K}",
            "--model", $"tiny={TestModels.TinyRandomLlama2LongContext}",
            .. Settings,
        ];
        _app = InferenceServer.Build(args, Configure);
        await _app.StartAsync();
        BaseUrl = _app.Urls.First().TrimEnd('/');
        Client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try { Directory.Delete(ModelsDirectory, recursive: true); } catch (IOException) { }
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public async Task<(int Status, JsonNode? Body)> PostAsync(string path, object body)
    {
        using var response = await Client.PostAsync(path, JsonContent(body));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<(int Status, string Text)> PostRawAsync(string path, string body)
    {
        using var response = await Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonNode> GetJsonAsync(string path)
    {
        var text = await Client.GetStringAsync(path);
        return JsonNode.Parse(text)!;
    }

    /// <summary>Posts a streaming request and returns every NDJSON line as a parsed object.</summary>
    public async Task<List<JsonNode>> StreamAsync(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent(body) };
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var lines = new List<JsonNode>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
            if (line.Length > 0) lines.Add(JsonNode.Parse(line)!);
        return lines;
    }

    public static StringContent JsonContent(object body) =>
        new(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}

/// <summary>One server shared by the test classes in the "server" collection.</summary>
public sealed class SharedServer : TestServer;

[CollectionDefinition("server")]
public sealed class ServerCollection : ICollectionFixture<SharedServer>;
