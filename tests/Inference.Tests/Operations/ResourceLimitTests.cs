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

    [Fact]
    public async Task An_embedding_context_is_counted_in_the_budget_and_refused_with_507_when_it_cannot_fit()
    {
        // Its compute buffer grows with num_ctx squared: at 4096 the attention mask alone is 32 MiB.
        var (status, r) = await budget.PostAsync("/api/embed", new { model = "tiny", input = "x", options = new { num_ctx = 4096 } });
        Assert.Equal(507, status);
        var match = System.Text.RegularExpressions.Regex.Match((string)r!["error"]!,
            @"^model 'tiny:latest' needs about (\d+) MiB more for an embedding context for num_ctx 4096 \(it has (\d+) MiB\) " +
            $@"but the memory budget \(Inference:MemoryBudgetBytes\) is {BudgetServer.Budget / 1048576} MiB$");
        Assert.True(match.Success, (string)r["error"]!);
        Assert.InRange(int.Parse(match.Groups[1].Value), 32, 64);
        // The model itself stays loaded and serves; nothing was reserved for the refused context.
        var size = (long)(await budget.GetJsonAsync("/api/ps"))["models"]!.AsArray().Single(m => (string)m!["name"]! == "tiny:latest")!["size"]!;
        Assert.Equal(200, (await budget.PostAsync("/api/generate", new { model = "tiny", prompt = "x", stream = false, options = new { num_predict = 2, num_ctx = 4096 } })).Status);

        // A small one fits, and is counted in the model's size from then on.
        (status, _) = await budget.PostAsync("/api/embed", new { model = "tiny", input = "x", options = new { num_ctx = 512 } });
        Assert.Equal(200, status);
        var tiny = (await budget.GetJsonAsync("/api/ps"))["models"]!.AsArray().Single(m => (string)m!["name"]! == "tiny:latest")!;
        Assert.True((long)tiny["size"]! > BudgetServer.Estimate(TestModels.TinyRandomLlama2, 512));
        Assert.True((long)tiny["size"]! <= BudgetServer.Budget);
        Assert.NotEqual(size, (long)tiny["size"]!);
    }

    [Fact]
    public async Task Context_buffers_larger_than_the_machine_are_refused_with_507_even_without_a_budget()
    {
        var manager = one.Get<ModelManager>();
        // Nothing loaded (an unload waits for a model's running requests, e.g. another test's stream, to end).
        await one.PostAsync("/api/generate", new { model = "tiny", keep_alive = 0 });
        await one.PostAsync("/api/generate", new { model = "stories", keep_alive = 0 });
        long memory = manager.HostMemoryBytes;
        manager.HostMemoryBytes = 8L << 20;
        try
        {
            var (status, r) = await one.PostAsync("/api/generate", new { model = "stories", prompt = "x", stream = false, options = new { num_predict = 2 } });
            Assert.Equal(507, status);
            Assert.Matches(@"^model 'stories:latest' needs about \d+ MiB for its context buffers \(num_ctx 2048\) but this machine has 8 MiB of memory; use a smaller num_ctx$",
                (string)r!["error"]!);
            Assert.DoesNotContain("stories:latest", await Running(one));
            // A smaller context fits.
            (status, r) = await one.PostAsync("/api/generate", new { model = "stories", prompt = "x", stream = false, options = new { num_predict = 2, num_ctx = 256 } });
            Assert.True(status == 200, r?.ToJsonString());
        }
        finally
        {
            manager.HostMemoryBytes = memory;
        }
        Assert.Equal(200, (await one.PostAsync("/api/generate", Tiny("stories"))).Status);

        // An embedding context is checked the same way before llama.cpp allocates it; the model stays and serves.
        await one.PostAsync("/api/generate", new { model = "stories", keep_alive = 0 });
        Assert.Equal(200, (await one.PostAsync("/api/generate", Tiny("stories"))).Status);
        manager.HostMemoryBytes = 1L << 20;
        try
        {
            var (status, r) = await one.PostAsync("/api/embed", new { model = "stories", input = "x" });
            Assert.Equal(507, status);
            Assert.Matches(@"^model 'stories:latest' needs about \d+ MiB for its embedding context \(num_ctx 2048\) but this machine has 1 MiB of memory; use a smaller num_ctx$",
                (string)r!["error"]!);
            Assert.Contains("stories:latest", await Running(one));
        }
        finally
        {
            manager.HostMemoryBytes = memory;
        }
        Assert.Equal(200, (await one.PostAsync("/api/generate", Tiny("stories"))).Status);
        Assert.Equal(200, (await one.PostAsync("/api/embed", new { model = "stories", input = "x" })).Status);
    }
}
