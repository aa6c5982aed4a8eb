namespace Inference.Engine.Store;

/// <summary>
/// Models on disk in Ollama's layout: <c>manifests/&lt;host&gt;/&lt;namespace&gt;/&lt;model&gt;/&lt;tag&gt;</c>
/// (JSON manifests) and content-addressed <c>blobs/sha256-&lt;hex&gt;</c>. A directory Ollama wrote
/// can be used directly, and Ollama can read what this class writes.
/// </summary>
/// <remarks>
/// Manifest writes, copies and deletes are serialized by one gate so that a delete's blob
/// reference count sees a consistent set of manifests. Blob imports are not gated: they are
/// content-addressed and land with an atomic rename. As in Ollama, a blob imported but not yet
/// referenced by any manifest can be removed by a concurrent delete of another model that used it.
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

    /// <summary>Ollama's models directory: <c>$OLLAMA_MODELS</c>, else <c>~/.ollama/models</c>.</summary>
    public static string DefaultRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("OLLAMA_MODELS");
        return string.IsNullOrWhiteSpace(fromEnv)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ollama", "models")
            : fromEnv;
    }
}
