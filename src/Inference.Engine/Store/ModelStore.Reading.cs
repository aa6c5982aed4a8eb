namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    private long _manifestVersion;

    /// <summary>
    /// Opens a file the store reads (manifests, metadata blobs, GGUF headers). A test seam: tests count the
    /// opens to show that a request for a prepared model reads nothing.
    /// </summary>
    public Func<string, Stream> OpenForReading { get; init; } = static path =>
        new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1 << 16, FileOptions.SequentialScan);

    /// <summary>
    /// Goes up after every manifest this store writes, copies or deletes, so that a cache of what manifests
    /// say (<see cref="Models.ModelCatalog"/>) knows to look again, even when a rewrite keeps the file's size and
    /// time stamp (file times on Linux move in clock ticks of a few milliseconds).
    /// </summary>
    public long ManifestVersion => Interlocked.Read(ref _manifestVersion);

    private void ManifestsChanged() => Interlocked.Increment(ref _manifestVersion);

    /// <summary>The manifest file of <paramref name="name"/> as spelled on disk (letter case may differ), or null when there is none.</summary>
    public string? ManifestFile(ModelName name) => FindManifestFile(name);

    /// <summary>
    /// The stored model in the manifest file <paramref name="file"/> (from <see cref="ManifestFile"/>); throws
    /// <see cref="InvalidManifestException"/> when it is corrupt and <see cref="FileNotFoundException"/> when it is gone.
    /// </summary>
    public StoredModel Read(ModelName name, string file) => Load(NameOf(file) ?? name, file);
}
