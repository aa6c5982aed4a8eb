using System.Security.Cryptography;
using System.Text.Json;

namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    /// <summary>The manifest of <paramref name="name"/>, or null when there is none; <see cref="InvalidDataException"/> when it is corrupt.</summary>
    public ModelManifest? GetManifest(ModelName name)
    {
        var path = FindManifestFile(name);
        return path is null ? null : ParseManifest(File.ReadAllBytes(path), path);
    }

    /// <summary>The stored model called <paramref name="name"/>, or null when there is none.</summary>
    public StoredModel? Get(ModelName name)
    {
        var path = FindManifestFile(name);
        return path is null ? null : Load(NameOf(path) ?? name, path);
    }

    /// <summary>
    /// Writes <paramref name="manifest"/> under <paramref name="name"/>, replacing any manifest with
    /// that name (in any letter case). Atomic: readers see the old or the new file, never a mix.
    /// Throws <see cref="InvalidOperationException"/> when a referenced blob is not in the store.
    /// </summary>
    public async Task WriteManifestAsync(ModelName name, ModelManifest manifest, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(name);
        Validate(manifest, "manifest");
        foreach (var layer in manifest.AllBlobs)
        {
            if (!BlobExists(layer.Digest))
            {
                throw new InvalidOperationException($"cannot write manifest for {name}: blob {layer.Digest} ({layer.MediaType}) is not in the store");
            }
        }
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, StoreJsonContext.Ollama.ModelManifest);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteManifestFile(name, bytes);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// All models under <c>manifests/</c>. Entries that are not four levels deep, whose names are
    /// not valid model names, or whose manifests cannot be read or parsed are skipped.
    /// </summary>
    public IReadOnlyList<StoredModel> List()
    {
        var models = new List<StoredModel>();
        foreach (var (name, path) in EnumerateManifestFiles())
        {
            try
            {
                models.Add(Load(name, path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // One broken manifest must not hide every other model.
            }
        }
        return models;
    }

    /// <summary>
    /// Removes the manifest of <paramref name="name"/>, any directories it leaves empty, and the
    /// blobs no remaining manifest references. False when there was no such model.
    /// </summary>
    public bool Delete(ModelName name)
    {
        _gate.Wait();
        try
        {
            var path = FindManifestFile(name);
            if (path is null)
            {
                return false;
            }
            ModelManifest? manifest = null;
            try
            {
                manifest = ParseManifest(File.ReadAllBytes(path), path);
            }
            catch (InvalidDataException)
            {
                // Still delete a corrupt manifest; its blobs (if any) cannot be known.
            }
            File.Delete(path);
            PruneEmptyDirectories(Path.GetDirectoryName(path)!);
            if (manifest is not null)
            {
                DeleteUnreferencedBlobs(manifest.AllBlobs.Select(l => l.Digest));
            }
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stores the manifest of <paramref name="source"/> under <paramref name="destination"/> too (blobs are shared). False when the source does not exist.</summary>
    public bool Copy(ModelName source, ModelName destination)
    {
        _gate.Wait();
        try
        {
            var path = FindManifestFile(source);
            if (path is null)
            {
                return false;
            }
            byte[] bytes = File.ReadAllBytes(path);
            ParseManifest(bytes, path); // Refuse to spread a corrupt manifest.
            if (!source.Equals(destination)) // Names are case-insensitive: copying onto itself is a no-op.
            {
                WriteManifestFile(destination, bytes);
            }
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private StoredModel Load(ModelName name, string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var manifest = ParseManifest(bytes, path);
        var modified = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        return new StoredModel(name, manifest, modified, Convert.ToHexStringLower(SHA256.HashData(bytes)), manifest.TotalSize);
    }

    private static ModelManifest ParseManifest(byte[] bytes, string path)
    {
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(bytes, StoreJsonContext.Ollama.ModelManifest);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"manifest {path} is not valid JSON: {e.Message}", e);
        }
        Validate(manifest, $"manifest {path}");
        return manifest!;
    }

    /// <summary>Checks what JSON binding cannot: non-null parts and well-formed digests.</summary>
    private static void Validate(ModelManifest? manifest, string what)
    {
        if (manifest?.Config is null || manifest.Layers is null)
        {
            throw new InvalidDataException($"{what} lacks a config or layers");
        }
        foreach (var layer in manifest.AllBlobs)
        {
            if (layer is null || !Digests.TryGetHex(layer.Digest, out _) || string.IsNullOrEmpty(layer.MediaType) || layer.Size < 0)
            {
                throw new InvalidDataException($"{what} has an invalid layer {layer}");
            }
        }
    }

    private void DeleteUnreferencedBlobs(IEnumerable<string> candidates)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, path) in EnumerateManifestFiles())
        {
            try
            {
                foreach (var layer in ParseManifest(File.ReadAllBytes(path), path).AllBlobs)
                {
                    referenced.Add(Digests.GetHex(layer.Digest));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // Like Ollama: a corrupt manifest does not pin blobs.
            }
        }
        foreach (var digest in candidates.Distinct())
        {
            if (!referenced.Contains(Digests.GetHex(digest)))
            {
                File.Delete(BlobPath(digest));
            }
        }
    }
}
