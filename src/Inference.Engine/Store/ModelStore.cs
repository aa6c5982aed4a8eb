namespace Inference.Engine.Store;

/// <summary>
/// Models on disk in Ollama's layout: <c>manifests/&lt;host&gt;/&lt;namespace&gt;/&lt;model&gt;/&lt;tag&gt;</c>
/// (JSON manifests) and content-addressed <c>blobs/sha256-&lt;hex&gt;</c>. A directory Ollama wrote
/// can be used directly, and Ollama can read what this class writes.
/// </summary>
/// <remarks>
/// Manifest writes, copies and deletes are serialized by one gate so that a delete's blob
/// reference count sees a consistent set of manifests. Blob imports are not gated: they are
/// content-addressed and land with an atomic rename. A create or pull holds its blobs in a
/// <see cref="PendingBlobs"/> until its manifest is written, so a concurrent delete of another
/// model does not remove them, and a failed operation removes the blobs it added.
/// Every file the store writes goes through <see cref="OpenForWriting"/>; a full disk surfaces as
/// <see cref="InsufficientStorageException"/> after the partly written file is removed.
/// </remarks>
public sealed partial class ModelStore
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <param name="root">The models directory; <c>blobs</c> and <c>manifests</c> are created under it when first needed.</param>
    public ModelStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
        BlobsDirectory = Path.Combine(Root, "blobs");
        ManifestsDirectory = Path.Combine(Root, "manifests");
    }

    public string Root { get; }

    public string BlobsDirectory { get; }

    public string ManifestsDirectory { get; }

    /// <summary>
    /// Opens a file the store writes (blob temporaries, partial downloads, manifest temporaries)
    /// with the given mode. A test seam: tests wrap the stream to simulate a full disk.
    /// </summary>
    public Func<string, FileMode, Stream> OpenForWriting { get; init; } = static (path, mode) =>
        new FileStream(path, mode, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);

    /// <summary>Ollama's models directory: <c>$OLLAMA_MODELS</c>, else <c>~/.ollama/models</c>.</summary>
    public static string DefaultRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("OLLAMA_MODELS");
        return string.IsNullOrWhiteSpace(fromEnv)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ollama", "models")
            : fromEnv;
    }

    /// <summary>Turns the operating system's "disk full" into <see cref="InsufficientStorageException"/>; other failures pass.</summary>
    private static Exception? DiskFull(Exception e, string writing) =>
        InsufficientStorageException.IsDiskFull(e)
            ? new InsufficientStorageException($"not enough disk space in the models directory to write {writing}", e)
            : null;
}
