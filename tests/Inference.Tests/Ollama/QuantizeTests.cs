using Inference.ModelGen;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>/api/create with quantize, through llama.cpp's quantizer.</summary>
[Collection("server")]
public sealed class QuantizeTests(SharedServer server) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task An_f16_model_is_quantized_with_streamed_progress_and_serves()
    {
        // A small F16 llama whose rows fit quantization blocks (the shared test models' rows do not).
        var f16 = Path.Combine(_dir, "tiny-f16.gguf");
        ModelGenerator.WriteF16(ModelPreset.All["tiny"], f16, seed: 2);
        var lines = await server.StreamAsync("/api/create", new { model = "synthetic:q4", from = f16, quantize = "q4_K_M" });
        var statuses = lines.Select(l => (string?)l["status"]).ToList();
        Assert.True(statuses[^1] == "success", lines[^1].ToJsonString());
        Assert.Contains("quantizing F16 model to Q4_K_M", statuses);

        var (_, show) = await server.PostAsync("/api/show", new { model = "synthetic:q4" });
        Assert.Equal("Q4_K_M", (string)show!["details"]!["quantization_level"]!);
        var model = (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Single(m => (string)m!["name"]! == "synthetic:q4")!;
        // Mostly embeddings here, which Q4_K_M keeps at Q6_K, plus the vocabulary: clearly smaller, not 4x.
        Assert.True((long)model["size"]! < new FileInfo(f16).Length * 7 / 10, $"{model["size"]} vs {new FileInfo(f16).Length}");

        var (status, r) = await server.PostAsync("/api/generate", new { model = "synthetic:q4", prompt = "the cat sat", stream = false, options = new { num_predict = 4 } });
        Assert.Equal(200, status);
        Assert.Equal(4, (int)r!["eval_count"]!);
    }

    [Theory]
    [InlineData("stories", "q9_9", "unsupported quantization type 'q9_9': use one of q4_0, q4_1, q5_0, q5_1, q8_0, q2_K, q3_K_S, q3_K_M, q3_K_L, q4_K_S, q4_K_M, q5_K_S, q5_K_M, q6_K")]
    [InlineData("stories", "q8_0", "cannot quantize to q8_0: tensor blk.0.ffn_down.weight has 172 columns, not a multiple of 32")]
    public async Task Impossible_quantizations_are_refused_clearly(string from, string type, string message)
    {
        var (status, r) = await server.PostAsync("/api/create", new { model = "bad-quant", from, quantize = type, stream = false });
        Assert.Equal(400, status);
        Assert.Equal(message, (string)r!["error"]!);
        Assert.DoesNotContain((await server.GetJsonAsync("/api/tags"))["models"]!.AsArray(), m => (string)m!["name"]! == "bad-quant:latest");
    }
}
