using System.Text.Json.Nodes;
using Inference.Engine.Models;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>Loading, keep_alive, /api/ps and client disconnects.</summary>
[Collection("server")]
public sealed class LifecycleTests(SharedServer server)
{
    private async Task<JsonNode?> Running(string name) =>
        (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray().FirstOrDefault(m => (string)m!["name"]! == name);

    [Fact]
    public async Task Empty_prompt_loads_and_keep_alive_zero_unloads()
    {
        var (status, load) = await server.PostAsync("/api/generate", new { model = "tiny", keep_alive = "10m" });
        Assert.Equal(200, status);
        Assert.Equal("load", (string)load!["done_reason"]!);
        Assert.True((bool)load["done"]!);

        var ps = await Running("tiny:latest");
        Assert.NotNull(ps);
        // Tensor bytes plus an F16 KV stream of 2048 cells for each of the 4 running and 4 cached sequences.
        var gguf = Inference.Engine.Gguf.GgufFile.Read(TestModels.TinyRandomLlama2);
        Assert.Equal(gguf.Tensors.Sum(t => t.ByteSize) + MemoryEstimate.KvCacheBytes(gguf, 2048 * 8), (long)ps["size"]!);
        Assert.Equal(0, (long)ps["size_vram"]!);
        Assert.Equal(2048, (int)ps["context_length"]!);
        var expires = DateTimeOffset.Parse((string)ps["expires_at"]!);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10.1));

        var (_, unload) = await server.PostAsync("/api/generate", new { model = "tiny", keep_alive = 0 });
        Assert.Equal("unload", (string)unload!["done_reason"]!);
        Assert.Null(await Running("tiny:latest"));
    }

    [Fact]
    public async Task A_reload_is_reported_in_load_duration_and_a_new_num_ctx_reloads()
    {
        await server.PostAsync("/api/generate", new { model = "tiny", keep_alive = 0 });
        var (_, cold) = await server.PostAsync("/api/generate", new { model = "tiny", prompt = "a", stream = false, options = new { num_predict = 1 } });
        var (_, warm) = await server.PostAsync("/api/generate", new { model = "tiny", prompt = "a", stream = false, options = new { num_predict = 1 } });
        Assert.True((long)cold!["load_duration"]! > 0);
        Assert.Equal(0, (long)warm!["load_duration"]!);

        await server.PostAsync("/api/generate", new { model = "tiny", prompt = "a", stream = false, options = new { num_predict = 1, num_ctx = 512 } });
        Assert.Equal(512, (int)(await Running("tiny:latest"))!["context_length"]!);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_frees_its_sequence()
    {
        // Random weights almost never sample EOS: this stream only ends when its client leaves.
        var body = new { model = "tiny", prompt = "Once upon a time", options = new { num_predict = -1, num_ctx = 32768 } };
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = TestServer.JsonContent(body) })
        {
            using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            for (int i = 0; i < 3; i++) Assert.NotNull(await reader.ReadLineAsync());
        } // disposing the response closes the connection mid-stream

        var model = server.Get<ModelManager>().Loaded.Single(m => m.Definition.DisplayName == "tiny:latest");
        var stats = model.Runner.Stats;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (stats.ActiveSequences > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, stats.ActiveSequences);
        Assert.True(stats.CancelledSequences >= 1);
        // Generation stopped long before num_predict or the context ran out.
        long generated = stats.TokensGenerated;
        await Task.Delay(300);
        Assert.Equal(generated, stats.TokensGenerated);
    }
}
