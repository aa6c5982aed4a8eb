using System.Buffers.Binary;
using System.Text;
using Inference.Engine.Gguf;
using Inference.Tests.Support;

namespace Inference.Tests.Gguf;

public class GgufSyntheticTests
{
    private static GgufFile Read(byte[] bytes) => GgufFile.Read(new MemoryStream(bytes), bytes.Length);

    private static string Error(byte[] bytes) => Assert.Throws<InvalidGgufException>(() => Read(bytes)).Message;

    [Fact]
    public void EveryMetadataType_IsMapped()
    {
        var bytes = new GgufBuilder()
            .Add("u8", GgufValueType.UInt8, 200)
            .Add("i8", GgufValueType.Int8, -5)
            .Add("u16", GgufValueType.UInt16, 65_535)
            .Add("i16", GgufValueType.Int16, -32_768)
            .Add("u32", GgufValueType.UInt32, uint.MaxValue)
            .Add("i32", GgufValueType.Int32, int.MinValue)
            .Add("f32", GgufValueType.Float32, 0.5f)
            .Add("bool", GgufValueType.Bool, true)
            .Add("str", GgufValueType.String, "héllo")
            .Add("u64", GgufValueType.UInt64, 42UL)
            .Add("u64big", GgufValueType.UInt64, ulong.MaxValue)
            .Add("i64", GgufValueType.Int64, long.MinValue)
            .Add("f64", GgufValueType.Float64, 1.25)
            .AddArray("arr", GgufValueType.String, "a", "b")
            .AddArray("nested", GgufValueType.Array, (GgufValueType.Int32, new object[] { 1, 2 }), (GgufValueType.Int32, new object[] { 3 }))
            .Add("general.architecture", GgufValueType.String, "test")
            .Add("test.context_length", GgufValueType.UInt32, 4096)
            .Add("general.file_type", GgufValueType.UInt32, 15)
            .Add("tokenizer.chat_template", GgufValueType.String, "{{ .Prompt }}")
            .Build();

        var g = Read(bytes);
        var m = g.Metadata;
        Assert.Equal(200L, m["u8"]);
        Assert.Equal(-5L, m["i8"]);
        Assert.Equal(65_535L, m["u16"]);
        Assert.Equal(-32_768L, m["i16"]);
        Assert.Equal((long)uint.MaxValue, m["u32"]);
        Assert.Equal((long)int.MinValue, m["i32"]);
        Assert.Equal(0.5, m["f32"]);
        Assert.Equal(true, m["bool"]);
        Assert.Equal("héllo", m["str"]);
        Assert.Equal(42L, m["u64"]);
        Assert.Equal(ulong.MaxValue, m["u64big"]);
        Assert.Null(g.GetInt("u64big"));
        Assert.Equal(long.MinValue, m["i64"]);
        Assert.Equal(1.25, m["f64"]);
        Assert.Equal(new object?[] { "a", "b" }, Assert.IsAssignableFrom<IReadOnlyList<object?>>(m["arr"]));
        var nested = Assert.IsAssignableFrom<IReadOnlyList<object?>>(m["nested"]);
        Assert.Equal(new object?[] { 3L }, Assert.IsAssignableFrom<IReadOnlyList<object?>>(nested[1]));

        Assert.Equal("test", g.Architecture);
        Assert.Equal(4096, g.ContextLength);
        Assert.Null(g.EmbeddingLength);
        Assert.Equal("Q4_K_M", GgufNames.FileTypeName(g.FileType));
        Assert.Equal("{{ .Prompt }}", g.ChatTemplate);
        Assert.Null(g.GetString("u8"));
        Assert.Empty(g.Tensors);
        Assert.Equal(0, g.ParameterCount);
        Assert.Equal(bytes.Length, g.DataEnd);
    }

    [Fact]
    public void Tensors_SizesOffsetsAndAlignment()
    {
        var bytes = new GgufBuilder { Alignment = 64 }
            .Add("general.alignment", GgufValueType.UInt32, 64)
            .AddTensor("a", 12, 144 * 2, 256, 2)   // Q4_K: 2 blocks of 256
            .AddTensor("b", 0, 4 * 3, 3)            // F32
            .AddTensor("c", 8, 34 * 4, 64, 2)       // Q8_0: 4 blocks of 32
            .Build();

        var g = Read(bytes);
        Assert.Equal(64, g.Alignment);
        Assert.Equal(0, g.DataOffset % 64);
        Assert.Equal(new long[] { 288, 12, 136 }, g.Tensors.Select(t => t.ByteSize));
        Assert.Equal(new ulong[] { 0, 320, 384 }, g.Tensors.Select(t => t.Offset));
        Assert.Equal(512 + 3 + 128, g.ParameterCount);
        Assert.Equal(g.DataOffset + 384 + 136, g.DataEnd);
        Assert.Equal("Q4_K", g.Tensors[0].TypeName);
    }

    [Fact]
    public void BadMagic_Throws()
    {
        var bytes = new GgufBuilder().Build();
        bytes[0] = (byte)'X';
        Assert.Equal("not a GGUF file (bad magic)", Error(bytes));
        Assert.Equal("not a GGUF file (bad magic)", Error([]));
        Assert.Equal("not a GGUF file (bad magic)", Error(Encoding.ASCII.GetBytes("{\"json\": true}")));
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(4u)]
    [InlineData(0x03000000u)] // a big-endian v3 file
    public void UnsupportedVersion_Throws(uint version)
    {
        var bytes = new GgufBuilder { Version = version }.Build();
        Assert.Equal($"unsupported GGUF version {version}", Error(bytes));
    }

    [Fact]
    public void Version2_IsAccepted()
    {
        Assert.Equal(2u, Read(new GgufBuilder { Version = 2 }.Add("k", GgufValueType.Bool, false).Build()).Version);
    }

    [Fact]
    public void UnknownTensorType_Throws()
    {
        var bytes = new GgufBuilder().AddTensor("w", 99, 32, 8).Build();
        Assert.Equal("unsupported tensor type 99 in tensor w", Error(bytes));
    }

    [Fact]
    public void RowNotMultipleOfBlock_Throws()
    {
        var bytes = new GgufBuilder().AddTensor("w", 2, 18, 31).Build();
        Assert.Contains("not a multiple of the block size 32", Error(bytes));
    }

    [Fact]
    public void AbsurdStringLength_ThrowsWithoutAllocating()
    {
        var bytes = new GgufBuilder().Add("k", GgufValueType.String, "value").Build();
        // Key length field sits right after magic, version and the two counts.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), ulong.MaxValue - 1);
        Assert.StartsWith("file is truncated: header ends past end of file", Error(bytes));
    }

    [Fact]
    public void AbsurdArrayCount_ThrowsWithoutAllocating()
    {
        var bytes = new GgufBuilder().AddArray("k", GgufValueType.UInt64, 1UL, 2UL).Build();
        // 24 header + 8 key length + 1 key byte + 4 value type + 4 element type = count field.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(41), 1UL << 60);
        Assert.StartsWith("file is truncated: header ends past end of file", Error(bytes));
    }

    [Fact]
    public void AbsurdCounts_Throw()
    {
        var bytes = new GgufBuilder().Build();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), long.MaxValue); // tensor count
        Assert.StartsWith("file is truncated", Error(bytes));
        bytes = new GgufBuilder().Build();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), ulong.MaxValue); // kv count
        Assert.StartsWith("file is truncated", Error(bytes));
    }

    [Fact]
    public void HugeDimensions_Throw()
    {
        var bytes = new GgufBuilder().AddTensor("w", 0, 4, 1UL << 40, 1UL << 40).Build();
        Assert.Contains("impossible dimensions", Error(bytes));
    }

    [Fact]
    public void DuplicateKey_Throws()
    {
        var bytes = new GgufBuilder().Add("k", GgufValueType.Bool, true).Add("k", GgufValueType.Bool, false).Build();
        Assert.Equal("duplicate metadata key 'k'", Error(bytes));
    }

    [Fact]
    public void StreamShorterThanDeclaredLength_Throws()
    {
        var bytes = new GgufBuilder().Add("k", GgufValueType.String, "value").Build();
        var e = Assert.Throws<InvalidGgufException>(() => GgufFile.Read(new MemoryStream(bytes[..30]), bytes.Length));
        Assert.StartsWith("file is truncated", e.Message);
    }
}
