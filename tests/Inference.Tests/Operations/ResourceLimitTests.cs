using System.Text.Json.Nodes;
using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>OLLAMA_MAX_LOADED_MODELS=1: loading a second model unloads the idle first one.</summary>
public sealed class OneModelServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:MaxLoadedModels=1"];
}

/// <summary>
/// A memory budget that holds stories or tiny at the default context (1024 here), not both, and not
/// stories at its full 2048-token training context.
/// </summary>
public sealed class BudgetServer : TestServer
{
    public const int DefaultContext = 1024;

    /// <summary>Tensor bytes plus KV for the context's cells x 8 sequence streams (4 running + 4 cached), as the server estimates.</summary>
    public static long Estimate(string path, int context = DefaultContext)
    {
        var gguf = GgufFile.Read(path);
        return gguf.Tensors.Sum(t => t.ByteSize) + MemoryEstimate.KvCacheBytes(gguf, context * 8);
    }

    // Room for the larger of the two, and half of the smaller: never both.
    public static readonly long Budget =
        Math.Max(Estimate(TestModels.Stories260K), Estimate(TestModels.TinyRandomLlama2)) +
        Math.Min(Estimate(TestModels.Stories260K), Estimate(TestModels.TinyRandomLlama2)) / 2;

    protected override IEnumerable<string> Settings => [$"--Inference:MemoryBudgetBytes={Budget}", $"--Inference:DefaultContextLength={DefaultContext}"];
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
            new { model = "stories", prompt = "x", stream = false, options = new { num_ctx = 2048 } });
        Assert.Equal(507, status);
        Assert.Equal($"model 'stories:latest' needs about {BudgetServer.Estimate(TestModels.Stories260K, 2048) / 1048576} MiB " +
            $"(weights and KV cache for num_ctx 2048) but the memory budget (Inference:MemoryBudgetBytes) is {BudgetServer.Budget / 1048576} MiB",
            (string)r!["error"]!);
        Assert.Equal(["tiny:latest"], await Running(budget)); // nothing was unloaded for a request that could never fit
    }
}
