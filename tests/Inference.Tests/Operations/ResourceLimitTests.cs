using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>OLLAMA_MAX_LOADED_MODELS=1: loading a second model unloads the idle first one.</summary>
public sealed class OneModelServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:MaxLoadedModels=1"];
}

/// <summary>A memory budget that holds stories or tiny at the default context, not both, and not stories at 32k.</summary>
public sealed class BudgetServer : TestServer
{
    // stories260K at num_ctx 2048: ~1.2 MB weights + 8 streams x 2048 cells of KV (~10.5 MB); tiny: ~1.8 MB + ~0.3 MB.
    public const long Budget = 13 * 1024 * 1024;
    protected override IEnumerable<string> Settings => [$"--Inference:MemoryBudgetBytes={Budget}"];
}

public sealed class ResourceLimitTests(OneModelServer one, BudgetServer budget) : IClassFixture<OneModelServer>, IClassFixture<BudgetServer>
{
    private static async Task<List<string>> Running(TestServer server) =>
        (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray().Select(m => (string)m!["name"]!).ToList();

    private static object Tiny(string model) => new { model, prompt = "x", stream = false, options = new { num_predict = 2 } };

    [Fact]
    public async Task The_least_recently_used_idle_model_makes_room_for_a_new_one()
    {
        Assert.Equal(200, (await one.PostAsync("/api/generate", Tiny("stories"))).Status);
        Assert.Equal(["stories:latest"], await Running(one));
        Assert.Equal(200, (await one.PostAsync("/api/generate", Tiny("tiny"))).Status);
        Assert.Equal(["tiny:latest"], await Running(one));
    }

    [Fact]
    public async Task A_busy_model_is_not_evicted_and_the_request_gets_503()
    {
        var body = new { model = "tiny", prompt = "Once", options = new { num_predict = -1, num_ctx = 32768 } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = TestServer.JsonContent(body) };
        using var running = await one.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await running.Content.ReadAsStreamAsync());
        Assert.NotNull(await reader.ReadLineAsync());

        var (status, r) = await one.PostAsync("/api/generate", Tiny("stories"));
        Assert.Equal(503, status);
        Assert.Equal("cannot load model 'stories:latest': 1 models are loaded (OLLAMA_MAX_LOADED_MODELS=1) and all of them are in use; try again later",
            (string)r!["error"]!);
    }

    [Fact]
    public async Task The_memory_budget_evicts_idle_models_and_refuses_what_can_never_fit()
    {
        Assert.Equal(200, (await budget.PostAsync("/api/generate", Tiny("stories"))).Status);
        Assert.Equal(200, (await budget.PostAsync("/api/generate", Tiny("tiny"))).Status);
        // Together they exceed the budget: stories (idle, least recently used) was unloaded.
        Assert.Equal(["tiny:latest"], await Running(budget));
        var sizes = (await budget.GetJsonAsync("/api/ps"))["models"]!.AsArray().Sum(m => (long)m!["size"]!);
        Assert.True(sizes <= BudgetServer.Budget);

        var (status, r) = await budget.PostAsync("/api/generate",
            new { model = "stories", prompt = "x", stream = false, options = new { num_ctx = 32768 } });
        Assert.Equal(507, status);
        Assert.Matches(@"^model 'stories:latest' needs about \d+ MiB \(weights and KV cache for num_ctx 32768\) but the memory budget \(Inference:MemoryBudgetBytes\) is 13 MiB$",
            (string)r!["error"]!);
        Assert.Equal(["tiny:latest"], await Running(budget)); // nothing was unloaded for a request that could never fit
    }
}
