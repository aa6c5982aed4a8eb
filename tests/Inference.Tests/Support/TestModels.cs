namespace Inference.Tests.Support;

/// <summary>Locates the real GGUF test models: $INFERENCE_TEST_MODELS, else &lt;repo root&gt;/../shared/models.</summary>
public static class TestModels
{
    public static string Directory { get; } = Resolve();

    public static string Stories260K => Path.Combine(Directory, "stories260K.gguf");

    public static string TinyRandomLlama2 => Path.Combine(Directory, "llama-2-tiny-random.gguf");

    /// <summary>The context the test servers' "tiny" declares: long enough for a stream that runs until its client leaves.</summary>
    public const int TinyServedContext = 32768;

    /// <summary>
    /// A copy of <see cref="TinyRandomLlama2"/> whose llama.context_length says 32768 instead of 4096, in the
    /// test binaries' folder. The server refuses a num_ctx beyond a model's training context, and tests
    /// that need a generation to outlast their steps (cancellation, queueing, shutdown) ask random weights
    /// for a 32k context; the weights are the same bytes, so nothing else about the model changes.
    /// </summary>
    public static string TinyRandomLlama2LongContext => LongContextCopy.Value;

    private static readonly Lazy<string> LongContextCopy = new(() =>
    {
        var bytes = File.ReadAllBytes(TinyRandomLlama2);
        var key = "llama.context_length"u8;
        int at = bytes.AsSpan().IndexOf(key);
        // The key is followed by its value type (4 = uint32) and the value.
        if (at < 0 || BitConverter.ToUInt32(bytes, at + key.Length) != 4)
            throw new InvalidOperationException("llama.context_length (uint32) not found in " + TinyRandomLlama2);
        BitConverter.TryWriteBytes(bytes.AsSpan(at + key.Length + 4, 4), (uint)TinyServedContext);
        var path = Path.Combine(AppContext.BaseDirectory, "llama-2-tiny-random-32k.gguf");
        var temporary = path + "." + Environment.ProcessId;
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
        return path;
    });

    /// <summary>
    /// The longest text one token of a SentencePiece GGUF (both test models) can stand for, read from its
    /// vocabulary independently of the server: a piece's UTF-8 bytes as stored, its spaces written "▁"
    /// (3 bytes: the tokenizer matches a "▁" in the text like a space), a byte token (type 6) one byte.
    /// </summary>
    public static int LongestPieceBytes(string path)
    {
        var gguf = Inference.Engine.Gguf.GgufFile.Read(path);
        var tokens = (IReadOnlyList<object?>)gguf.Metadata["tokenizer.ggml.tokens"]!;
        var types = (IReadOnlyList<object?>)gguf.Metadata["tokenizer.ggml.token_type"]!;
        int longest = 0;
        for (int i = 0; i < tokens.Count; i++)
        {
            int bytes = Convert.ToInt64(types[i]) == 6 ? 1 : System.Text.Encoding.UTF8.GetByteCount((string)tokens[i]!);
            longest = Math.Max(longest, bytes);
        }
        return longest;
    }

    private static string Resolve()
    {
        var fromEnv = Environment.GetEnvironmentVariable("INFERENCE_TEST_MODELS");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }
        return Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "models"));
    }

    /// <summary>The first directory above the test binaries that holds Inference.sln.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Inference.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Inference.sln not found above {AppContext.BaseDirectory}");
    }
}
