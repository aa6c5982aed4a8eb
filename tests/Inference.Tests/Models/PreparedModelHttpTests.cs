using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Engine.Store;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Tests.Models;

/// <summary>A server whose model store records every file it opens for reading.</summary>
public sealed class CountingStoreServer : TestServer
{
    private readonly List<string> _opened = [];

    public IReadOnlyList<string> Opened
    {
        get { lock (_opened) return [.. _opened]; }
    }

    public void ResetOpens()
    {
        lock (_opened) _opened.Clear();
    }

    protected override void Configure(WebApplicationBuilder builder)
    {
        var plain = new ModelStore(ModelsDirectory).OpenForReading;
        // Registered after the server's own, so this store is the one every service gets.
        builder.Services.AddSingleton(new ModelStore(ModelsDirectory)
        {
            OpenForReading = path =>
            {
                lock (_opened) _opened.Add(path);
                return plain(path);
            },
        });
    }
}

/// <summary>
/// Prepared models end to end: requests for a loaded model open no file on any API, a model created or
/// copied over an existing name is used at once, and /api/show verbose reads the tokenizer arrays from the blob.
/// </summary>
public sealed class PreparedModelHttpTests(CountingStoreServer server) : IClassFixture<CountingStoreServer>
{
    private static readonly object[] Hi = [new { role = "user", content = "Hi" }];

    private async Task<JsonNode> ShowAsync(string model, bool verbose = false)
    {
        var (status, show) = await server.PostAsync("/api/show", new { model, verbose });
        Assert.True(status == 200, show?.ToJsonString());
        return show!;
    }

    private static string[] Capabilities(JsonNode show) => show["capabilities"]!.AsArray().Select(c => (string)c!).ToArray();

    [Fact]
    public async Task Requests_for_a_loaded_model_open_no_file()
    {
        await ToolTemplates.CreateModelsAsync(server);
        (string Route, object Body)[] requests =
        [
            ("/api/chat", new { model = "qwen-tools", messages = Hi, stream = false, options = new { num_predict = 2 } }),
            ("/api/chat", new { model = "qwen-tools", messages = Hi, tools = JsonNode.Parse(ToolTemplates.ToolsJson), stream = false, options = new { num_predict = 2 } }),
            ("/api/generate", new { model = "qwen-tools", prompt = "Once", stream = false, options = new { num_predict = 2 } }),
            ("/v1/chat/completions", new { model = "qwen-tools", messages = Hi, max_tokens = 2 }),
            ("/v1/completions", new { model = "qwen-tools", prompt = "Once", max_tokens = 2 }),
            ("/api/show", new { model = "qwen-tools" }),
        ];
        async Task RunAllAsync()
        {
            foreach (var (route, body) in requests)
            {
                var (status, r) = await server.PostAsync(route, body);
                Assert.True(status == 200, $"{route}: {status} {r?.ToJsonString()}");
            }
        }
        await RunAllAsync(); // loads the model and prepares it

        server.ResetOpens();
        for (int i = 0; i < 3; i++) await RunAllAsync();
        Assert.Empty(server.Opened);
    }

    [Fact]
    public async Task A_model_created_or_copied_over_an_existing_name_is_used_at_once()
    {
        await ToolTemplates.CreateModelsAsync(server);
        var withTools = new { model = "swap", messages = Hi, tools = JsonNode.Parse(ToolTemplates.ToolsJson), stream = false, options = new { num_predict = 2 } };

        Assert.Equal(200, (await server.PostAsync("/api/create", new { model = "swap", from = "stories", template = ToolTemplates.Qwen, stream = false })).Status);
        Assert.Equal(new[] { "completion", "tools" }, Capabilities(await ShowAsync("swap")));
        Assert.Equal(200, (await server.PostAsync("/api/chat", withTools)).Status);

        Assert.Equal(200, (await server.PostAsync("/api/create", new { model = "swap", from = "stories", template = "{{ .Prompt }}", stream = false })).Status);
        var show = await ShowAsync("swap");
        Assert.Equal("{{ .Prompt }}", (string)show["template"]!);
        Assert.Equal(new[] { "completion" }, Capabilities(show));
        var (status, refused) = await server.PostAsync("/api/chat", withTools);
        Assert.Equal(400, status);
        Assert.Equal("registry.ollama.ai/library/swap:latest does not support tools", (string)refused!["error"]!);

        using (var copy = await server.Client.PostAsync("/api/copy", TestServer.JsonContent(new { source = "qwen-tools", destination = "swap" })))
            Assert.Equal(200, (int)copy.StatusCode);
        show = await ShowAsync("swap");
        Assert.Equal(ToolTemplates.Qwen, (string)show["template"]!);
        Assert.Equal(new[] { "completion", "tools" }, Capabilities(show));
        Assert.Equal(200, (await server.PostAsync("/api/chat", withTools)).Status);

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = TestServer.JsonContent(new { model = "swap" }) })
            Assert.Equal(200, (int)(await server.Client.SendAsync(delete)).StatusCode);
        Assert.Equal(404, (await server.PostAsync("/api/show", new { model = "swap" })).Status);
    }

    [Fact]
    public async Task Show_verbose_reads_the_tokenizer_arrays_from_the_blob()
    {
        var plain = await ShowAsync("stories");
        Assert.Null(plain["model_info"]!["tokenizer.ggml.tokens"]);
        Assert.Equal(5, (int)plain["model_info"]!["llama.block_count"]!);

        server.ResetOpens();
        var verbose = await ShowAsync("stories", verbose: true);
        var blob = Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(TestModels.Stories260K))));
        Assert.Equal(new[] { blob }, server.Opened);
        var tokens = verbose["model_info"]!["tokenizer.ggml.tokens"]!.AsArray();
        Assert.Equal(512, tokens.Count);
        Assert.Equal("<s>", (string)tokens[1]!);
    }
}
