using System.Text;

namespace Inference.ModelGen;

/// <summary>
/// Minimal GGUF v3 writer: metadata and tensor infos first, then tensor data streamed one tensor at a
/// time so multi-GB models never sit in memory. Little-endian, as llama.cpp expects.
/// </summary>
public sealed class GgufWriter : IDisposable
{
    public const uint Alignment = 32;

    private enum ValueType : uint { UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9 }

    private readonly List<Action<BinaryWriter>> _kvs = [];
    private readonly List<TensorSpec> _tensors = [];
    private readonly Stream _stream;
    private readonly BinaryWriter _w;
    private int _nextTensor = -1;

    public GgufWriter(Stream stream)
    {
        _stream = stream;
        _w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        AddUInt32("general.alignment", Alignment);
    }

    public void AddString(string key, string v) => Kv(key, ValueType.String, w => Str(w, v));
    public void AddUInt32(string key, uint v) => Kv(key, ValueType.UInt32, w => w.Write(v));
    public void AddFloat32(string key, float v) => Kv(key, ValueType.Float32, w => w.Write(v));
    public void AddBool(string key, bool v) => Kv(key, ValueType.Bool, w => w.Write(v));

    public void AddStringArray(string key, IReadOnlyList<string> v) => Kv(key, ValueType.Array, w =>
    {
        w.Write((uint)ValueType.String);
        w.Write((ulong)v.Count);
        foreach (var s in v) Str(w, s);
    });

    public void AddFloat32Array(string key, IReadOnlyList<float> v) => Kv(key, ValueType.Array, w =>
    {
        w.Write((uint)ValueType.Float32);
        w.Write((ulong)v.Count);
        foreach (var x in v) w.Write(x);
    });

    public void AddInt32Array(string key, IReadOnlyList<int> v) => Kv(key, ValueType.Array, w =>
    {
        w.Write((uint)ValueType.Int32);
        w.Write((ulong)v.Count);
        foreach (var x in v) w.Write(x);
    });

    public void AddTensor(TensorSpec t) => _tensors.Add(t);

    /// <summary>Writes header, metadata and tensor infos; afterwards call <see cref="WriteTensorData"/> per tensor, in order.</summary>
    public void WriteHeader()
    {
        _w.Write("GGUF"u8);
        _w.Write(3u);
        _w.Write((ulong)_tensors.Count);
        _w.Write((ulong)_kvs.Count);
        foreach (var kv in _kvs) kv(_w);
        ulong offset = 0;
        foreach (var t in _tensors)
        {
            Str(_w, t.Name);
            _w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims) _w.Write((ulong)d);
            _w.Write((uint)t.Type);
            _w.Write(offset); // relative to the (aligned) start of the data section
            offset = Align(offset + (ulong)t.Bytes);
        }
        Pad();
        _nextTensor = 0;
    }

    /// <summary>Streams the next tensor's bytes from <paramref name="fill"/> (called with chunks to fill), then pads.</summary>
    public void WriteTensorData(Action<Span<byte>> fill, byte[] buffer)
    {
        if (_nextTensor < 0 || _nextTensor >= _tensors.Count) throw new InvalidOperationException("no tensor pending");
        var remaining = _tensors[_nextTensor++].Bytes;
        while (remaining > 0)
        {
            var n = (int)Math.Min(remaining, buffer.Length);
            fill(buffer.AsSpan(0, n));
            _stream.Write(buffer, 0, n);
            remaining -= n;
        }
        Pad();
    }

    public IReadOnlyList<TensorSpec> Tensors => _tensors;

    private void Kv(string key, ValueType type, Action<BinaryWriter> value) => _kvs.Add(w =>
    {
        Str(w, key);
        w.Write((uint)type);
        value(w);
    });

    private static void Str(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static ulong Align(ulong x) => (x + Alignment - 1) / Alignment * Alignment;

    private void Pad()
    {
        _w.Flush();
        var pos = (ulong)_stream.Position;
        for (var i = pos; i < Align(pos); i++) _stream.WriteByte(0);
    }

    public void Dispose() => _w.Dispose();
}
