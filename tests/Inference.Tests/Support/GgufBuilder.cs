using System.Text;
using Inference.Engine.Gguf;

namespace Inference.Tests.Support;

/// <summary>Writes small GGUF files in memory for tests (little-endian, v3 by default).</summary>
public sealed class GgufBuilder
{
    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<(string Name, ulong[] Dims, uint Type, long Bytes, byte[]? Data)> _tensors = [];

    public uint Version { get; set; } = 3;

    public int Alignment { get; set; } = 32;

    /// <summary>Adds a scalar or string value; for arrays use <see cref="AddArray"/>.</summary>
    public GgufBuilder Add(string key, GgufValueType type, object value)
    {
        _metadata.Add((key, type, value));
        return this;
    }

    public GgufBuilder AddArray(string key, GgufValueType elementType, params object[] values)
    {
        _metadata.Add((key, GgufValueType.Array, (elementType, values)));
        return this;
    }

    /// <summary>Adds a tensor; <paramref name="bytes"/> is its data size (computed by the caller).</summary>
    public GgufBuilder AddTensor(string name, uint type, long bytes, params ulong[] dims)
    {
        _tensors.Add((name, dims, type, bytes, null));
        return this;
    }

    /// <summary>Adds a tensor with its data (the others are written as zeros).</summary>
    public GgufBuilder AddTensor(string name, uint type, byte[] data, params ulong[] dims)
    {
        _tensors.Add((name, dims, type, data.Length, data));
        return this;
    }

    public byte[] Build()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Encoding.ASCII.GetBytes("GGUF"));
            w.Write(Version);
            w.Write((ulong)_tensors.Count);
            w.Write((ulong)_metadata.Count);
            foreach (var (key, type, value) in _metadata)
            {
                WriteString(w, key);
                w.Write((uint)type);
                WriteValue(w, type, value);
            }
            ulong offset = 0;
            foreach (var (name, dims, type, bytes, _) in _tensors)
            {
                WriteString(w, name);
                w.Write((uint)dims.Length);
                foreach (var d in dims)
                {
                    w.Write(d);
                }
                w.Write(type);
                w.Write(offset);
                offset += (ulong)Align(bytes);
            }
            if (_tensors.Count > 0)
            {
                w.Write(new byte[Align(ms.Position) - ms.Position]);
                foreach (var t in _tensors)
                {
                    w.Write(t.Data ?? []);
                    w.Write(new byte[Align(t.Bytes) - (t.Data?.Length ?? 0)]);
                }
            }
        }
        return ms.ToArray();
    }

    private long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write(Convert.ToByte(value)); break;
            case GgufValueType.Int8: w.Write(Convert.ToSByte(value)); break;
            case GgufValueType.UInt16: w.Write(Convert.ToUInt16(value)); break;
            case GgufValueType.Int16: w.Write(Convert.ToInt16(value)); break;
            case GgufValueType.UInt32: w.Write(Convert.ToUInt32(value)); break;
            case GgufValueType.Int32: w.Write(Convert.ToInt32(value)); break;
            case GgufValueType.Float32: w.Write(Convert.ToSingle(value)); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write(Convert.ToUInt64(value)); break;
            case GgufValueType.Int64: w.Write(Convert.ToInt64(value)); break;
            case GgufValueType.Float64: w.Write(Convert.ToDouble(value)); break;
            case GgufValueType.Array:
                var (elementType, values) = ((GgufValueType, object[]))value;
                w.Write((uint)elementType);
                w.Write((ulong)values.Length);
                foreach (var v in values)
                {
                    WriteValue(w, elementType, v);
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }
}
