using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Inference.Engine.Backend;
using Inference.Engine.Gguf;
using Inference.ModelGen;
using Inference.Server.Hosting;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>
/// Flash attention and KV cache quantization (Inference:FlashAttention, Inference:KvCacheType and Ollama's
/// OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE): each variable set on a started server process changes the
/// context llama.cpp creates (its own KV cache log line says which type it allocated), the size /api/ps reports,
/// and a quantized cache still generates.
/// </summary>
public sealed class KvCacheOptionTests
{
    /// <summary>
    /// A random-weights model whose attention heads are 32 values wide (4 layers, 256 wide, 8 heads, 4 KV heads),
    /// as a quantized cache needs: the shared test models' heads are 8 (stories260K) and 4 (tiny random) wide.
    /// </summary>
    private static readonly Lazy<string> Head32Model = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "kv-cache-head32.gguf");
        if (!File.Exists(path))
        {
            var temp = path + ".tmp";
            ModelGenerator.WriteF16(ModelPreset.All["tiny"], temp, seed: 11);
            File.Move(temp, path, overwrite: true);
        }
        return path;
    });

    // 4 running + 4 cached sequences (the defaults) x 2048 cells each.
    private const long Cells = 8 * 2048;
    // K and V, 4 layers, 128 values (4 KV heads x 32) per cell: F16 2 bytes a value, Q8_0 34 bytes per 32 values.
    private const long Head32F16KvBytes = 2 * 4 * Cells * 128 * 2;
    private const long Head32Q8KvBytes = 2 * 4 * Cells * (128 / 32 * 34);
    private const long Head32Q4KvBytes = 2 * 4 * Cells * (128 / 32 * 18);

    private static Dictionary<string, string?> Map(params (string Name, string Value)[] env) =>
        ServerConfiguration.FromOllamaEnvironment(name => env.FirstOrDefault(e => e.Name == name).Value);

    [Theory]
    [InlineData("1", "on")]
    [InlineData("true", "on")]
    [InlineData("TRUE", "on")]
    [InlineData("0", "off")]
    [InlineData("false", "off")]
    public void Ollama_flash_attention_maps_to_on_or_off(string value, string expected) =>
        Assert.Equal(expected, Map(("OLLAMA_FLASH_ATTENTION", value))["Inference:FlashAttention"]);

    [Theory]
    [InlineData("f16", "f16")]
    [InlineData("q8_0", "q8_0")]
    [InlineData("Q4_0", "q4_0")]
    public void Ollama_kv_cache_type_maps_to_the_setting(string value, string expected) =>
        Assert.Equal(expected, Map(("OLLAMA_KV_CACHE_TYPE", value))["Inference:KvCacheType"]);

    [Theory]
    [InlineData("OLLAMA_FLASH_ATTENTION", "yes", "expected 1, true, 0 or false")]
    [InlineData("OLLAMA_FLASH_ATTENTION", "auto", "expected 1, true, 0 or false")]
    [InlineData("OLLAMA_KV_CACHE_TYPE", "q5_1", "expected f16, q8_0 or q4_0")]
    [InlineData("OLLAMA_KV_CACHE_TYPE", "f32", "expected f16, q8_0 or q4_0")]
    public void Invalid_values_name_the_variable(string name, string value, string expected)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Map((name, value)));
        Assert.Equal($"{name}='{value}' is invalid: {expected}", ex.Message);
    }

    [Fact]
    public void A_quantized_cache_turns_flash_attention_on_or_stays_f16_with_the_reason()
    {
        var head32 = GgufFile.Read(Head32Model.Value);
        var stories = GgufFile.Read(TestModels.Stories260K);
        static KvCacheSettings Resolve(string fa, string kv, GgufFile model) =>
            KvCacheSettings.Resolve(new EngineOptions { FlashAttention = fa, KvCacheType = kv }, model);

        Assert.Equal(new KvCacheSettings { FlashAttention = null }, Resolve("auto", "f16", head32));
        Assert.Equal(new KvCacheSettings { FlashAttention = false }, Resolve("off", "f16", head32));
        Assert.Equal(new KvCacheSettings { FlashAttention = true, CacheType = LLama.Native.GGMLType.GGML_TYPE_Q8_0, CacheTypeName = "q8_0" },
            Resolve("auto", "q8_0", head32));
        Assert.Equal(new KvCacheSettings { FlashAttention = true, CacheType = LLama.Native.GGMLType.GGML_TYPE_Q4_0, CacheTypeName = "q4_0" },
            Resolve("on", "Q4_0", head32));

        var off = Resolve("off", "q8_0", head32);
        Assert.Equal((false, LLama.Native.GGMLType.GGML_TYPE_F16), (off.FlashAttention, off.CacheType));
        Assert.Equal("Inference:KvCacheType=q8_0 needs flash attention, which Inference:FlashAttention=off turns off: the KV cache stays f16", off.Warning);

        var narrow = Resolve("on", "q8_0", stories);
        Assert.Equal((true, LLama.Native.GGMLType.GGML_TYPE_F16), (narrow.FlashAttention, narrow.CacheType));
        Assert.Equal("Inference:KvCacheType=q8_0 needs attention heads of a multiple of 32 values; this model's are 8 (K) and 8 (V): the KV cache stays f16", narrow.Warning);
    }

    [Fact]
    public void The_memory_estimate_follows_the_cache_type()
    {
        var head32 = GgufFile.Read(Head32Model.Value);
        Assert.Equal(Head32F16KvBytes, Inference.Engine.Models.MemoryEstimate.KvCacheBytes(head32, (int)Cells));
        Assert.Equal(Head32Q8KvBytes, Inference.Engine.Models.MemoryEstimate.KvCacheBytes(head32, (int)Cells, (uint)LLama.Native.GGMLType.GGML_TYPE_Q8_0));
        Assert.Equal(Head32Q4KvBytes, Inference.Engine.Models.MemoryEstimate.KvCacheBytes(head32, (int)Cells, (uint)LLama.Native.GGMLType.GGML_TYPE_Q4_0));
    }

    [Fact]
    public async Task Ollama_variables_quantize_the_cache_and_generation_still_works()
    {
        await using var server = await StartAsync(new() { ["OLLAMA_KV_CACHE_TYPE"] = "q8_0", ["OLLAMA_FLASH_ATTENTION"] = "1" });

        var text = await GenerateAsync(server, "head32");
        Assert.NotEmpty(text);
        Assert.Equal(TensorBytes(Head32Model.Value) + Head32Q8KvBytes, await PsSizeAsync(server, "head32:latest"));
        Assert.Contains(server.Output, l => l.Contains("(KV cache q8_0 17.0 MiB, flash attention on)", StringComparison.Ordinal));
        // llama.cpp's own account of the cache it allocated.
        Assert.Contains(server.Output, l => l.Contains("K (q8_0)", StringComparison.Ordinal) && l.Contains("V (q8_0)", StringComparison.Ordinal));

        // A model whose heads a Q8_0 block does not divide keeps an F16 cache, and the log says why.
        Assert.NotEmpty(await GenerateAsync(server, "stories"));
        var stories = GgufFile.Read(TestModels.Stories260K);
        Assert.Equal(TensorBytes(TestModels.Stories260K) + 2 * 5 * Cells * 32 * 2, await PsSizeAsync(server, "stories:latest"));
        Assert.Contains(server.Output, l => l.Contains("Model stories:latest: Inference:KvCacheType=q8_0 needs attention heads of a multiple of 32 values", StringComparison.Ordinal));
        Assert.Equal(5, stories.GetInt("llama.block_count")); // the 5 layers and 32-wide KV rows the expected size assumes
    }

    [Fact]
    public async Task Without_flash_attention_a_quantized_cache_falls_back_to_f16_with_a_warning()
    {
        await using var server = await StartAsync(new() { ["OLLAMA_KV_CACHE_TYPE"] = "q4_0", ["OLLAMA_FLASH_ATTENTION"] = "false" });

        Assert.NotEmpty(await GenerateAsync(server, "head32"));
        Assert.Equal(TensorBytes(Head32Model.Value) + Head32F16KvBytes, await PsSizeAsync(server, "head32:latest"));
        Assert.Contains(server.Output, l => l.Contains("Inference:KvCacheType=q4_0 needs flash attention, which Inference:FlashAttention=off turns off: the KV cache stays f16", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("(KV cache f16 32.0 MiB, flash attention off)", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("K (f16)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Our_setting_wins_over_ollamas_variable()
    {
        await using var server = await StartAsync(new() { ["OLLAMA_KV_CACHE_TYPE"] = "q8_0" }, "--Inference:KvCacheType=q4_0");

        Assert.NotEmpty(await GenerateAsync(server, "head32"));
        Assert.Equal(TensorBytes(Head32Model.Value) + Head32Q4KvBytes, await PsSizeAsync(server, "head32:latest"));
        Assert.Contains(server.Output, l => l.Contains("(KV cache q4_0 9.0 MiB, flash attention on)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("OLLAMA_KV_CACHE_TYPE", "q5_1", null, "configuration error: OLLAMA_KV_CACHE_TYPE='q5_1' is invalid: expected f16, q8_0 or q4_0")]
    [InlineData("OLLAMA_FLASH_ATTENTION", "maybe", null, "configuration error: OLLAMA_FLASH_ATTENTION='maybe' is invalid: expected 1, true, 0 or false")]
    [InlineData(null, null, "--Inference:KvCacheType=q2_k", "Inference:KvCacheType must be f16, q8_0 or q4_0, got 'q2_k'")]
    [InlineData(null, null, "--Inference:FlashAttention=yes", "Inference:FlashAttention must be auto, on or off, got 'yes'")]
    public async Task An_unknown_value_stops_the_server_and_names_the_setting(string? variable, string? value, string? argument, string expected)
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Inference.Server.dll"),
            "--urls", "http://127.0.0.1:0", "--Inference:ModelsDirectory=" + Path.GetTempPath()])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("OLLAMA_", StringComparison.Ordinal) || k.StartsWith("Inference__", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        if (variable is not null) psi.Environment[variable] = value;
        if (argument is not null) psi.ArgumentList.Add(argument);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(2, process.ExitCode);
        Assert.Contains(expected, (await stderr).Trim());
    }

    private static async Task<ServerProcess> StartAsync(Dictionary<string, string> environment, params string[] extra)
    {
        var models = Directory.CreateTempSubdirectory("kv-cache-store").FullName;
        int port = ServerProcess.FreePort();
        var server = ServerProcess.Start($"http://127.0.0.1:{port}",
            ["--urls", $"http://127.0.0.1:{port}", $"--Inference:ModelsDirectory={models}", "--Inference:Threads=2",
             "--model", $"head32={Head32Model.Value}", "--model", $"stories={TestModels.Stories260K}", .. extra],
            // OLLAMA_DEBUG: llama.cpp's own log lines (at debug level) show the cache it allocated.
            new Dictionary<string, string>(environment) { ["OLLAMA_DEBUG"] = "1" });
        await server.WaitReadyAsync();
        return server;
    }

    private static async Task<string> GenerateAsync(ServerProcess server, string model)
    {
        using var response = await server.Client.PostAsync("/api/generate", TestServer.JsonContent(new
        {
            model, prompt = "Once upon a time", stream = false, options = new { num_predict = 8, temperature = 0 },
        }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var json = JsonNode.Parse(body)!;
        Assert.Equal(8, (int)json["eval_count"]!);
        return (string)json["response"]!;
    }

    private static async Task<long> PsSizeAsync(ServerProcess server, string name)
    {
        var models = JsonNode.Parse(await server.Client.GetStringAsync("/api/ps"))!["models"]!.AsArray();
        return (long)models.Single(m => (string)m!["name"]! == name)!["size"]!;
    }

    private static long TensorBytes(string path) => GgufFile.Read(path).Tensors.Sum(t => t.ByteSize);
}
