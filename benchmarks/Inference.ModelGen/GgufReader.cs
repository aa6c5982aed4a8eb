using System.Text;

namespace Inference.ModelGen;

/// <summary>Reads a GGUF header (metadata and tensor infos, not the data) to verify what was written.</summary>
public sealed class GgufReader
{
    public sealed record TensorInfo(string Name, long[] Dims, uint Type, ulong Offset);

    /// <summary>Array metadata is summarised (element type, count); scalars are kept as values.</summary>
    public sealed record ArrayInfo(uint ElementType, ulong Count);

    public required uint Version { get; init; }
    public required IReadOnlyDictionary<string, object> Metadata { get; init; }
    public required IReadOnlyList<TensorInfo> Tensors { get; init; }

    public static GgufReader Read(string path)
    {
        using var fs = File.OpenRead(path);
        using var r = new BinaryReader(fs, Encoding.UTF8);
        if (!r.ReadBytes(4).AsSpan().SequenceEqual("GGUF"u8)) throw new InvalidDataException("not a GGUF file");
        var version = r.ReadUInt32();
        var nTensors = r.ReadUInt64();
        var nKv = r.ReadUInt64();
        var meta = new Dictionary<string, object>(StringComparer.Ordinal);
        for (ulong i = 0; i < nKv; i++)
        {
            var key = Str(r);
            meta[key] = Value(r, r.ReadUInt32());
        }
        var tensors = new List<TensorInfo>();
        for (ulong i = 0; i < nTensors; i++)
        {
            var name = Str(r);
            var dims = new long[r.ReadUInt32()];
            for (var d = 0; d < dims.Length; d++) dims[d] = (long)r.ReadUInt64();
            tensors.Add(new TensorInfo(name, dims, r.ReadUInt32(), r.ReadUInt64()));
        }
        return new GgufReader { Version = version, Metadata = meta, Tensors = tensors };
    }

    private static object Value(BinaryReader r, uint type) => type switch
    {
        0 => r.ReadByte(), 1 => r.ReadSByte(), 2 => r.ReadUInt16(), 3 => r.ReadInt16(),
        4 => r.ReadUInt32(), 5 => r.ReadInt32(), 6 => r.ReadSingle(), 7 => r.ReadBoolean(),
        8 => Str(r), 10 => r.ReadUInt64(), 11 => r.ReadInt64(), 12 => r.ReadDouble(),
        9 => Array(r),
        _ => throw new InvalidDataException($"unknown GGUF value type {type}"),
    };

    private static ArrayInfo Array(BinaryReader r)
    {
        var elem = r.ReadUInt32();
        var count = r.ReadUInt64();
        for (ulong i = 0; i < count; i++) Value(r, elem);
        return new ArrayInfo(elem, count);
    }

    private static string Str(BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes(checked((int)r.ReadUInt64())));
}
