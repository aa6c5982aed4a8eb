using System.Buffers.Binary;
using System.Text;

namespace Inference.Engine.Gguf;

/// <summary>
/// Little-endian primitive reader over a GGUF header that knows how many bytes the file has left,
/// so that a corrupt length or count fails with <see cref="InvalidGgufException"/> before anything
/// is allocated for it.
/// </summary>
internal sealed class GgufReader
{
    // Sanity caps well above anything real models use (a 256K-token vocabulary, chat templates of
    // a few hundred KB) but low enough that a corrupt header cannot make us allocate gigabytes.
    internal const int MaxStringBytes = 16 * 1024 * 1024;
    internal const long MaxArrayElements = 16 * 1024 * 1024;
    private const int MaxArrayNesting = 4;

    private readonly Stream _stream;
    private readonly long _length;
    private readonly byte[] _scratch = new byte[8];

    public GgufReader(Stream stream, long length)
    {
        _stream = stream;
        _length = length;
    }

    /// <summary>Bytes consumed so far, i.e. the offset from the start of the file.</summary>
    public long Position { get; private set; }

    public long Remaining => _length - Position;

    public byte ReadU8(string what) => Read(1, what)[0];

    public uint ReadU32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Read(4, what));

    public ulong ReadU64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Read(8, what));

    public string ReadString(string what)
    {
        int n = ReadStringLength(what);
        byte[] bytes = n <= _scratch.Length ? _scratch : new byte[n];
        ReadExactly(bytes.AsSpan(0, n));
        // Lenient decoding: a stray invalid byte in a token must not make the whole file unreadable.
        return Encoding.UTF8.GetString(bytes, 0, n);
    }

    /// <summary>
    /// Arrays with more elements than this are skipped (checked, not kept) and stand as a
    /// <see cref="GgufArraySummary"/>; null keeps every array.
    /// </summary>
    public int? SummarizeArraysOver { get; init; }

    /// <summary>
    /// A string's length prefix, checked against the bytes left and <see cref="MaxStringBytes"/>. The messages
    /// are built only on failure: a vocabulary has hundreds of thousands of strings.
    /// </summary>
    private int ReadStringLength(string what)
    {
        long start = Position;
        ulong length = ReadU64(what);
        if (length > (ulong)Math.Max(0, Remaining))
        {
            EnsureAvailable(length, 1, $"{what} (string of {length} bytes at offset {start})");
        }
        if (length > MaxStringBytes)
        {
            throw new InvalidGgufException($"{what} at offset {start} is implausibly long ({length} bytes)");
        }
        return (int)length;
    }

    /// <summary>Reads one metadata value of the given type (see <see cref="GgufFile.Metadata"/> for the mapping).</summary>
    public object? ReadValue(GgufValueType type, string what, int depth = 0)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return (long)Read(1, what)[0];
            case GgufValueType.Int8: return (long)(sbyte)Read(1, what)[0];
            case GgufValueType.UInt16: return (long)BinaryPrimitives.ReadUInt16LittleEndian(Read(2, what));
            case GgufValueType.Int16: return (long)BinaryPrimitives.ReadInt16LittleEndian(Read(2, what));
            case GgufValueType.UInt32: return (long)ReadU32(what);
            case GgufValueType.Int32: return (long)BinaryPrimitives.ReadInt32LittleEndian(Read(4, what));
            case GgufValueType.Float32: return (double)BinaryPrimitives.ReadSingleLittleEndian(Read(4, what));
            case GgufValueType.Bool: return Read(1, what)[0] != 0;
            case GgufValueType.String: return ReadString(what);
            case GgufValueType.UInt64:
                ulong u = ReadU64(what);
                return u <= long.MaxValue ? (long)u : u;
            case GgufValueType.Int64: return BinaryPrimitives.ReadInt64LittleEndian(Read(8, what));
            case GgufValueType.Float64: return BinaryPrimitives.ReadDoubleLittleEndian(Read(8, what));
            case GgufValueType.Array: return ReadArray(what, depth);
            default:
                throw new InvalidGgufException($"{what} has unknown value type {(uint)type} (offset {Position - 4})");
        }
    }

    private object ReadArray(string what, int depth)
    {
        if (depth >= MaxArrayNesting)
        {
            throw new InvalidGgufException($"{what} nests arrays deeper than {MaxArrayNesting} levels");
        }
        long start = Position;
        var elementType = (GgufValueType)ReadU32(what);
        ulong count = ReadU64(what);
        EnsureAvailable(count, MinimumSize(elementType, what), $"{what} (array of {count} elements at offset {start})");
        if (count > MaxArrayElements)
        {
            throw new InvalidGgufException($"{what} at offset {start} has implausibly many elements ({count})");
        }
        if (count > (ulong)(SummarizeArraysOver ?? int.MaxValue))
        {
            for (ulong i = 0; i < count; i++)
            {
                SkipValue(elementType, what, depth + 1);
            }
            return new GgufArraySummary(elementType, (long)count);
        }
        var items = new object?[(int)count];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = ReadValue(elementType, what, depth + 1);
        }
        return Array.AsReadOnly(items);
    }

    /// <summary>Moves past one value with the same checks as <see cref="ReadValue"/>, keeping nothing of it.</summary>
    private void SkipValue(GgufValueType type, string what, int depth)
    {
        switch (type)
        {
            case GgufValueType.String:
                Skip(ReadStringLength(what), what);
                break;
            case GgufValueType.Array:
                // Nested arrays are rare and small; reading them keeps one copy of their checks.
                _ = ReadValue(type, what, depth);
                break;
            default:
                Skip(MinimumSize(type, what), what);
                break;
        }
    }

    private void Skip(long n, string what)
    {
        if (n > Remaining)
        {
            throw Truncated($"reading {what} at offset {Position}");
        }
        if (_stream.CanSeek)
        {
            // A seek inside the stream's buffer costs no read; a file shorter than we were told is caught by the next read.
            _stream.Seek(n, SeekOrigin.Current);
            Position += n;
            return;
        }
        Span<byte> sink = stackalloc byte[256];
        while (n > 0)
        {
            int chunk = (int)Math.Min(n, sink.Length);
            ReadExactly(sink[..chunk]);
            n -= chunk;
        }
    }

    /// <summary>Smallest encoding of one value of the type, used to bound array counts by the bytes left.</summary>
    private static long MinimumSize(GgufValueType type, string what) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => throw new InvalidGgufException($"{what} is an array of unknown value type {(uint)type}"),
    };

    /// <summary>Throws unless <paramref name="count"/> items of at least <paramref name="itemSize"/> bytes can still fit.</summary>
    public void EnsureAvailable(ulong count, long itemSize, string what)
    {
        ulong remaining = (ulong)Math.Max(0, Remaining);
        if (count > remaining / (ulong)itemSize)
        {
            throw Truncated($"{what} needs more than the {remaining} bytes left");
        }
    }

    private ReadOnlySpan<byte> Read(int n, string what)
    {
        if (n > Remaining)
        {
            throw Truncated($"reading {what} at offset {Position}");
        }
        var span = _scratch.AsSpan(0, n);
        ReadExactly(span);
        return span;
    }

    private void ReadExactly(Span<byte> buffer)
    {
        try
        {
            _stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            // The stream is shorter than the length we were told.
            throw new InvalidGgufException($"file is truncated: header ends past end of file (at offset {Position})", e);
        }
        Position += buffer.Length;
    }

    private static InvalidGgufException Truncated(string detail) =>
        new($"file is truncated: header ends past end of file ({detail})");
}
