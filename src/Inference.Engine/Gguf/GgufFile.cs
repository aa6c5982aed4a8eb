using Inference.Engine.Store;

namespace Inference.Engine.Gguf;

/// <summary>
/// The header of a GGUF file (v2/v3): metadata and tensor descriptions, read without touching the
/// weights. See https://github.com/ggml-org/ggml/blob/master/docs/gguf.md.
/// </summary>
public sealed class GgufFile
{
    private const uint Magic = 0x46554747; // "GGUF" read as a little-endian u32.
    private const uint DefaultAlignment = 32;
    private const int MaxDimensions = 4; // GGML_MAX_DIMS

    private GgufFile(
        uint version,
        IReadOnlyDictionary<string, object?> metadata,
        IReadOnlyDictionary<string, GgufValueType> metadataTypes,
        IReadOnlyList<GgufTensorInfo> tensors,
        long alignment,
        long headerSize,
        long dataOffset,
        long dataEnd)
    {
        Version = version;
        Metadata = metadata;
        MetadataTypes = metadataTypes;
        Tensors = tensors;
        Alignment = alignment;
        HeaderSize = headerSize;
        DataOffset = dataOffset;
        DataEnd = dataEnd;
        long parameters = 0;
        foreach (var t in tensors)
        {
            parameters = checked(parameters + t.ElementCount);
        }
        ParameterCount = parameters;
    }

    /// <summary>GGUF format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>
    /// Metadata key/value pairs. Values are <see cref="string"/>, <see cref="long"/> for every integer
    /// type (<see cref="ulong"/> only for a u64 above <see cref="long.MaxValue"/>), <see cref="double"/>
    /// for floats, <see cref="bool"/>, and <see cref="IReadOnlyList{T}"/> of these for arrays (in a summary,
    /// <see cref="GgufArraySummary"/> for an array longer than <see cref="SummaryArrayLimit"/>).
    /// </summary>
    public IReadOnlyDictionary<string, object?> Metadata { get; }

    /// <summary>
    /// The type each metadata value was stored as. <see cref="Metadata"/> widens values (every float is a double),
    /// but llama.cpp reads some keys only as one exact type and aborts on another (a LoRA's alpha must be a float32).
    /// </summary>
    public IReadOnlyDictionary<string, GgufValueType> MetadataTypes { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary><c>general.alignment</c>, or 32.</summary>
    public long Alignment { get; }

    /// <summary>Bytes taken by the header (magic through the last tensor info).</summary>
    public long HeaderSize { get; }

    /// <summary>Absolute offset where tensor data starts (header size rounded up to the alignment).</summary>
    public long DataOffset { get; }

    /// <summary>Absolute offset where the last tensor's data ends: the smallest valid file size.</summary>
    public long DataEnd { get; }

    /// <summary>Sum of the element counts of all tensors.</summary>
    public long ParameterCount { get; }

    /// <summary><c>general.architecture</c>, or "" when missing.</summary>
    public string Architecture => GetString("general.architecture") ?? "";

    /// <summary><c>general.file_type</c> (llama.cpp's <c>llama_ftype</c>); see <see cref="GgufNames.FileTypeName"/>.</summary>
    public long? FileType => GetInt("general.file_type");

    public string? ChatTemplate => GetString("tokenizer.chat_template");

    /// <summary>
    /// Whether the vocabulary declares fill-in-the-middle tokens (prefix, suffix and middle: CodeLlama,
    /// Qwen-coder, StarCoder, ...), under the current key names or the older ones.
    /// </summary>
    public bool HasFillInTheMiddleTokens =>
        (GetInt("tokenizer.ggml.fim_pre_token_id") ?? GetInt("tokenizer.ggml.prefix_token_id")) is not null &&
        (GetInt("tokenizer.ggml.fim_suf_token_id") ?? GetInt("tokenizer.ggml.suffix_token_id")) is not null &&
        (GetInt("tokenizer.ggml.fim_mid_token_id") ?? GetInt("tokenizer.ggml.middle_token_id")) is not null;

    public long? ContextLength => GetArchInt("context_length");

    public long? EmbeddingLength => GetArchInt("embedding_length");

    public string? GetString(string key) => Metadata.TryGetValue(key, out var v) ? v as string : null;

    /// <summary>An integer value, or null when missing, not an integer, or a u64 too large for a long.</summary>
    public long? GetInt(string key) => Metadata.TryGetValue(key, out var v) && v is long l ? l : null;

    private long? GetArchInt(string suffix) => Architecture.Length == 0 ? null : GetInt($"{Architecture}.{suffix}");

    /// <summary>
    /// Arrays longer than this are left out of a summary (<see cref="ReadSummary(Stream, long)"/>); as in Ollama's
    /// /api/show, shorter ones are small enough to show without verbose.
    /// </summary>
    public const int SummaryArrayLimit = 64;

    /// <summary>Reads the header of the GGUF file at <paramref name="path"/> and checks that the file is long enough for its tensor data.</summary>
    public static GgufFile Read(string path)
    {
        using var stream = OpenRead(path);
        return Read(stream, stream.Length);
    }

    /// <summary>Opens a GGUF file for reading its header (buffered, sequential).</summary>
    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);

    /// <summary>
    /// Reads a GGUF header from <paramref name="stream"/>, which must be positioned at the start of the
    /// file; <paramref name="length"/> is the size of the whole file in bytes.
    /// </summary>
    public static GgufFile Read(Stream stream, long length) => Read(stream, length, summarizeArraysOver: null);

    /// <summary>
    /// Like <see cref="Read(Stream, long)"/>, with the same checks of the whole header, but arrays of more than
    /// <see cref="SummaryArrayLimit"/> elements are kept only as a <see cref="GgufArraySummary"/>: what a cached
    /// header holds for every request, without the tokenizer's arrays.
    /// </summary>
    public static GgufFile ReadSummary(Stream stream, long length) => Read(stream, length, SummaryArrayLimit);

    private static GgufFile Read(Stream stream, long length, int? summarizeArraysOver)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var reader = new GgufReader(stream is FileStream or MemoryStream ? stream : new BufferedStream(stream, 1 << 16), length)
        {
            SummarizeArraysOver = summarizeArraysOver,
        };

        if (reader.Remaining < 4 || reader.ReadU32("magic") != Magic)
        {
            throw new InvalidGgufException("not a GGUF file (bad magic)");
        }
        uint version = reader.ReadU32("version");
        if (version is not (2 or 3))
        {
            throw new InvalidGgufException($"unsupported GGUF version {version}");
        }
        ulong tensorCount = reader.ReadU64("tensor count");
        ulong kvCount = reader.ReadU64("metadata count");
        // Smallest possible entries: a KV is key length + type + 1-byte value; a tensor info is
        // name length + n_dims + type + offset.
        reader.EnsureAvailable(kvCount, 8 + 4 + 1, $"{kvCount} metadata entries");
        reader.EnsureAvailable(tensorCount, 8 + 4 + 4 + 8, $"{tensorCount} tensor infos");

        var (metadata, metadataTypes) = ReadMetadata(reader, (int)kvCount);
        long alignment = ReadAlignment(metadata);
        var raw = ReadTensorInfos(reader, (int)tensorCount);

        long headerSize = reader.Position;
        long dataOffset = tensorCount == 0 ? headerSize : AlignUp(headerSize, alignment);
        long dataEnd = dataOffset;
        foreach (var t in raw)
        {
            ulong end = t.Offset + (ulong)t.ByteSize;
            if (end < t.Offset || end > (ulong)(long.MaxValue - dataOffset))
            {
                throw new InvalidGgufException($"tensor {Echo.Bounded(t.Name)} has an impossible offset {t.Offset}");
            }
            dataEnd = Math.Max(dataEnd, dataOffset + (long)end);
        }
        if (dataEnd > length)
        {
            throw new InvalidGgufException($"file is truncated: tensor data needs {dataEnd} bytes but the file has {length}");
        }
        return new GgufFile(version, metadata, metadataTypes, raw, alignment, headerSize, dataOffset, dataEnd);
    }

    private static (Dictionary<string, object?> Values, Dictionary<string, GgufValueType> Types) ReadMetadata(GgufReader reader, int count)
    {
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
        var types = new Dictionary<string, GgufValueType>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string key = reader.ReadString($"metadata key #{i}");
            string shown = Echo.Bounded(key); // names come from the file, which a client may have uploaded
            var type = (GgufValueType)reader.ReadU32($"type of metadata '{shown}'");
            object? value = reader.ReadValue(type, $"metadata '{shown}'");
            if (!metadata.TryAdd(key, value))
            {
                throw new InvalidGgufException($"duplicate metadata key '{shown}'");
            }
            types[key] = type;
        }
        return (metadata, types);
    }

    private static long ReadAlignment(Dictionary<string, object?> metadata)
    {
        if (!metadata.TryGetValue("general.alignment", out var value))
        {
            return DefaultAlignment;
        }
        // ggml requires a power of two; anything else would make the data offsets meaningless.
        if (value is long a && a > 0 && a <= uint.MaxValue && (a & (a - 1)) == 0)
        {
            return a;
        }
        throw new InvalidGgufException($"general.alignment must be a power of two, got {value}");
    }

    private static List<GgufTensorInfo> ReadTensorInfos(GgufReader reader, int count)
    {
        var tensors = new List<GgufTensorInfo>(Math.Min(count, 1 << 16));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString($"name of tensor #{i}");
            string shown = Echo.Bounded(name); // names come from the file, which a client may have uploaded
            uint nDims = reader.ReadU32($"dimension count of tensor {shown}");
            if (nDims > MaxDimensions)
            {
                throw new InvalidGgufException($"tensor {shown} has {nDims} dimensions (at most {MaxDimensions} are supported)");
            }
            var dims = new ulong[nDims];
            for (int d = 0; d < dims.Length; d++)
            {
                dims[d] = reader.ReadU64($"dimensions of tensor {shown}");
            }
            uint type = reader.ReadU32($"type of tensor {shown}");
            ulong offset = reader.ReadU64($"offset of tensor {shown}");
            if (!names.Add(name))
            {
                throw new InvalidGgufException($"duplicate tensor name {shown}");
            }
            tensors.Add(new GgufTensorInfo(name, dims, type, offset, ByteSize(name, dims, type)));
        }
        return tensors;
    }

    private static long ByteSize(string name, ulong[] dims, uint type)
    {
        if (!GgmlTypes.TryGetLayout(type, out int blockSize, out int typeSize))
        {
            throw new InvalidGgufException($"unsupported tensor type {type} in tensor {Echo.Bounded(name)}");
        }
        if (dims.Length > 0 && dims[0] % (ulong)blockSize != 0)
        {
            throw new InvalidGgufException(
                $"tensor {Echo.Bounded(name)}: row length {dims[0]} is not a multiple of the block size {blockSize} of {GgmlTypes.Name(type)}");
        }
        try
        {
            ulong elements = 1;
            foreach (var d in dims)
            {
                elements = checked(elements * d);
            }
            return checked((long)(elements / (ulong)blockSize * (ulong)typeSize));
        }
        catch (OverflowException)
        {
            throw new InvalidGgufException($"tensor {Echo.Bounded(name)} has impossible dimensions [{string.Join(", ", dims)}]");
        }
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
