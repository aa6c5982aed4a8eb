using System.Security.Cryptography;
using System.Text.Json;

namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    /// <summary>The manifest of <paramref name="name"/>, or null when there is none; <see cref="InvalidManifestException"/> when it is corrupt.</summary>
    public ModelManifest? GetManifest(ModelName name)
    {
        var path = FindManifestFile(name);
        return path is null ? null : ParseManifest(ReadManifestFile(path, name), name);
    }

    /// <summary>The stored model called <paramref name="name"/>, or null when there is none; <see cref="InvalidManifestException"/> when its manifest is corrupt.</summary>
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
        if (bytes.Length > LayerRules.MaxManifestBytes)
        {
            throw new InvalidManifestException($"the manifest for {name.DisplayShortest()} would be {bytes.Length} bytes; at most {LayerRules.MaxManifestBytes} are allowed");
        }
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
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidManifestException)
            {
                // One broken manifest must not hide every other model (nor fail the listing).
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
                manifest = ParseManifest(ReadManifestFile(path, name), name);
            }
            catch (Exception e) when (e is InvalidManifestException or IOException or UnauthorizedAccessException)
            {
                // Still delete a corrupt manifest; its blobs (if any) cannot be known, and
                // start-up pruning removes them once nothing references them.
            }
            File.Delete(path);
            ManifestsChanged();
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

    /// <summary>
    /// Stores the manifest of <paramref name="source"/> under <paramref name="destination"/> too (blobs
    /// are shared). False when the source does not exist; <see cref="InvalidManifestException"/> when
    /// its manifest is corrupt; <see cref="InsufficientStorageException"/> when the disk is full.
    /// </summary>
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
            byte[] bytes = ReadManifestFile(path, source);
            CheckComplete(ParseManifest(bytes, source)); // Refuse to spread a corrupt or incomplete manifest.
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
        byte[] bytes = ReadManifestFile(path, name);
        var manifest = ParseManifest(bytes, name);
        var modified = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        return new StoredModel(name, manifest, modified, Convert.ToHexStringLower(SHA256.HashData(bytes)), manifest.TotalSize);
    }

    /// <summary>The manifest file's bytes, refusing one larger than <see cref="LayerRules.MaxManifestBytes"/> before reading it.</summary>
    private byte[] ReadManifestFile(string path, ModelName name)
    {
        using var file = OpenForReading(path);
        if (file.Length > LayerRules.MaxManifestBytes)
        {
            throw new InvalidManifestException($"the manifest of {name.DisplayShortest()} is {file.Length} bytes; at most {LayerRules.MaxManifestBytes} are allowed");
        }
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }

    private static ModelManifest ParseManifest(byte[] bytes, ModelName name)
    {
        string what = $"the manifest of {name.DisplayShortest()}";
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(bytes, StoreJsonContext.Ollama.ModelManifest);
        }
        catch (JsonException e)
        {
            throw InvalidManifestException.FromJson(what, e);
        }
        Validate(manifest, what);
        return manifest!;
    }

    /// <summary>
    /// Checks what JSON binding cannot: a config and a layer list, no null layer, well-formed
    /// digests (so none can name a path outside <c>blobs/</c>), a media type and a non-negative size.
    /// </summary>
    internal static void Validate(ModelManifest? manifest, string what)
    {
        if (manifest is null)
        {
            throw new InvalidManifestException($"{what} is empty");
        }
        if (manifest.Config is null || manifest.Layers is null)
        {
            throw new InvalidManifestException($"{what} lacks a config or layers");
        }
        int index = -1;
        foreach (var layer in manifest.AllBlobs)
        {
            string which = index < 0 ? "config" : $"layer {index}";
            index++;
            if (layer is null)
            {
                throw new InvalidManifestException($"{what} has a null {which}");
            }
            if (!Digests.TryGetHex(layer.Digest, out _))
            {
                throw new InvalidManifestException($"{what} has an invalid digest '{Echo.Bounded(layer.Digest)}' in its {which}: expected sha256:<64 lowercase hex digits>");
            }
            if (string.IsNullOrEmpty(layer.MediaType))
            {
                throw new InvalidManifestException($"{what} has no media type in its {which}");
            }
            if (layer.Size < 0)
            {
                throw new InvalidManifestException($"{what} declares a negative size ({layer.Size}) in its {which}");
            }
        }
    }

    /// <summary>
    /// Throws <see cref="InvalidManifestException"/> unless the manifest has a model layer, every blob
    /// it lists is in the store, and every metadata blob is within <see cref="LayerRules.MaxMetadataBytes"/>.
    /// </summary>
    public void CheckComplete(ModelManifest manifest)
    {
        ModelPath(manifest);
        foreach (var layer in manifest.AllBlobs)
        {
            var blob = new FileInfo(BlobPath(layer.Digest));
            if (!blob.Exists)
            {
                throw new InvalidManifestException($"blob {layer.Digest} ({Echo.Bounded(layer.MediaType)}) is missing from the store");
            }
            if (LayerRules.IsMetadata(layer.MediaType) && blob.Length > LayerRules.MaxMetadataBytes)
            {
                throw new InvalidManifestException($"blob {layer.Digest} ({layer.MediaType}) is {blob.Length} bytes; at most {LayerRules.MaxMetadataBytes} are allowed");
            }
        }
    }

    /// <summary>
    /// Removes the given blobs unless a manifest references them or a pending operation holds them.
    /// Call inside the gate. Nothing is removed when some manifest could not be read: its
    /// references are unknown, and keeping an unused blob is better than losing a used one.
    /// </summary>
    private void DeleteUnreferencedBlobs(IEnumerable<string> candidates)
    {
        var referenced = ReferencedDigests(out bool complete);
        if (!complete)
        {
            return;
        }
        foreach (var digest in candidates.Distinct())
        {
            string hex = Digests.GetHex(digest);
            if (!referenced.Contains(hex) && PinCount(hex) == 0)
            {
                File.Delete(BlobPath(digest));
            }
        }
    }
}
