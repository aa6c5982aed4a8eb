using Inference.Engine.Gguf;
using Inference.Tests.Support;

namespace Inference.Tests.Gguf;

/// <summary>Reads the real test models in shared/models; expected values were cross-checked with an independent parser.</summary>
public class GgufRealModelTests
{
    [Fact]
    public void Stories260K_Header()
    {
        var gguf = GgufFile.Read(TestModels.Stories260K);

        Assert.Equal(3u, gguf.Version);
        Assert.Equal("llama", gguf.Architecture);
        Assert.Equal(48, gguf.Tensors.Count); // 5 layers x 9 + token_embd, output_norm, output
        Assert.Equal(292_800, gguf.ParameterCount);
        Assert.Equal(2048, gguf.ContextLength);
        Assert.Equal(64, gguf.EmbeddingLength);
        Assert.Equal(5, gguf.GetInt("llama.block_count"));
        Assert.Null(gguf.ChatTemplate);
        Assert.Null(gguf.FileType);
        Assert.Equal("unknown", GgufNames.FileTypeName(gguf.FileType));
        Assert.Equal("293K", GgufNames.FormatParameterSize(gguf.ParameterCount));
        Assert.Equal(new FileInfo(TestModels.Stories260K).Length, gguf.DataEnd);
        Assert.Equal(14_176, gguf.DataOffset);

        var tokens = Assert.IsAssignableFrom<IReadOnlyList<object?>>(gguf.Metadata["tokenizer.ggml.tokens"]);
        Assert.Equal(512, tokens.Count);
        Assert.Equal("<s>", tokens[1]);
        // u32 0xFFFFFFFF stays an unsigned value, widened to long.
        Assert.Equal(4_294_967_295L, gguf.GetInt("tokenizer.ggml.padding_token_id"));
        Assert.All(gguf.Tensors, t => Assert.Equal(0u, t.Type));
    }

    [Fact]
    public void TinyRandomLlama2_Header()
    {
        var gguf = GgufFile.Read(TestModels.TinyRandomLlama2);

        Assert.Equal("llama", gguf.Architecture);
        Assert.Equal(12, gguf.Tensors.Count);
        Assert.Equal(513_048, gguf.ParameterCount);
        Assert.Equal(1, gguf.FileType);
        Assert.Equal("F16", GgufNames.FileTypeName(gguf.FileType));
        Assert.Equal(4096, gguf.ContextLength);
        Assert.Equal(8, gguf.EmbeddingLength);
        Assert.Equal("LLaMA v2", gguf.GetString("general.name"));
        Assert.Equal(new FileInfo(TestModels.TinyRandomLlama2).Length, gguf.DataEnd);
        var tokens = Assert.IsAssignableFrom<IReadOnlyList<object?>>(gguf.Metadata["tokenizer.ggml.tokens"]);
        Assert.Equal(32_000, tokens.Count);
        var eps = Assert.IsType<double>(gguf.Metadata["llama.attention.layer_norm_rms_epsilon"]);
        Assert.Equal(1e-5, eps, 1e-9);

        var embd = Assert.Single(gguf.Tensors, t => t.Name == "token_embd.weight");
        Assert.Equal(new ulong[] { 8, 32_000 }, embd.Dimensions);
        Assert.Equal(embd.ElementCount * GgmlTypeSize(embd.Type), embd.ByteSize);
    }

    [Fact]
    public void TruncatedHeader_Throws()
    {
        var bytes = File.ReadAllBytes(TestModels.Stories260K)[..100];
        var e = Assert.Throws<InvalidGgufException>(() => GgufFile.Read(new MemoryStream(bytes), bytes.Length));
        Assert.StartsWith("file is truncated: header ends past end of file", e.Message);
    }

    [Fact]
    public void TruncatedData_Throws()
    {
        var all = File.ReadAllBytes(TestModels.TinyRandomLlama2);
        var cut = all[..(int)(all.Length * 0.9)];
        var e = Assert.Throws<InvalidGgufException>(() => GgufFile.Read(new MemoryStream(cut), cut.Length));
        Assert.Equal($"file is truncated: tensor data needs {all.Length} bytes but the file has {cut.Length}", e.Message);
    }

    [Fact]
    public void TruncatedFileOnDisk_Throws()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("cut.gguf");
        var all = File.ReadAllBytes(TestModels.Stories260K);
        File.WriteAllBytes(path, all[..(all.Length - 1)]);
        var e = Assert.Throws<InvalidGgufException>(() => GgufFile.Read(path));
        Assert.Contains("tensor data needs", e.Message);
    }

    private static long GgmlTypeSize(uint type) => GgmlTypes.TryGetLayout(type, out _, out int size) ? size : -1;
}
