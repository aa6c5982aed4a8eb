using System.Text.Json;
using Inference.Engine.Gguf;
using Inference.Engine.Store;

namespace Inference.Engine.Models;

/// <summary>
/// Resolves names to installed models. What a model's manifest says is prepared once (<see cref="PreparedModel"/>,
/// kept by manifest digest) and a request for a name that was resolved before opens no file: it checks that
/// the store wrote no manifest since (<see cref="ModelStore.ManifestVersion"/>) and that the manifest file's size
/// and time stamp are unchanged (one stat, for writers outside this process such as Ollama sharing the store).
/// A changed manifest is read again; prepared models no name uses any more are dropped.
/// </summary>
public sealed class ModelCatalog(ModelStore store)
{
    /// <summary>A resolved name: its definition and what its manifest file looked like when it was read.</summary>
    private sealed record Entry(ModelDefinition Definition, string File, long StoreVersion, DateTime WriteTime, long Length);

    private readonly Lock _gate = new();
    // Both guarded by _gate for writes; lookups read _byName without it (ConcurrentDictionary).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Entry> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, PreparedModel> _byManifest = new(StringComparer.Ordinal);

    public ModelStore Store { get; } = store;

    /// <summary>
    /// Null when no such model is installed. Throws <see cref="InvalidManifestException"/> when its
    /// manifest is unusable (corrupt, no model layer, a missing model blob, a metadata layer out of
    /// bounds) and <see cref="InvalidGgufException"/> when its GGUF blob is broken.
    /// </summary>
    public ModelDefinition? Find(ModelName name)
    {
        string key = name.ToString();
        if (_byName.TryGetValue(key, out var entry) && entry.StoreVersion == Store.ManifestVersion && Unchanged(entry))
            return entry.Definition.Name.ToString() == key ? entry.Definition : entry.Definition with { Name = name };

        // Read before the manifest: a write after this is seen by the next lookup.
        long version = Store.ManifestVersion;
        var file = Store.ManifestFile(name);
        if (file is null)
        {
            Forget(key);
            return null;
        }
        var info = new FileInfo(file);
        StoredModel stored;
        try
        {
            stored = Store.Read(name, file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Forget(key); // deleted between finding and reading it
            return null;
        }
        catch
        {
            Forget(key);
            throw;
        }
        var prepared = PreparedFor(stored);
        // Named as asked (names are equal in any letter case), as every lookup answers.
        var definition = new ModelDefinition(name, stored, prepared);
        lock (_gate)
        {
            _byName[key] = new Entry(definition, file, version, info.Exists ? info.LastWriteTimeUtc : default, info.Exists ? info.Length : -1);
            DropUnused();
        }
        return definition;
    }

    /// <summary>
    /// The model's whole GGUF header, tokenizer arrays included, read from its blob now (for /api/show with
    /// verbose); what requests use is the summary in <see cref="PreparedModel.Gguf"/>.
    /// </summary>
    public GgufFile ReadFullHeader(ModelDefinition model)
    {
        using var stream = Store.OpenForReading(model.ModelPath);
        return GgufFile.Read(stream, stream.Length);
    }

    private static bool Unchanged(Entry entry)
    {
        var info = new FileInfo(entry.File);
        return info.Exists && info.LastWriteTimeUtc == entry.WriteTime && info.Length == entry.Length;
    }

    private void Forget(string key)
    {
        lock (_gate)
        {
            if (_byName.TryRemove(key, out _)) DropUnused();
        }
    }

    /// <summary>Prepared models for this manifest digest are shared (a copy of a model prepares nothing); otherwise they are built.</summary>
    private PreparedModel PreparedFor(StoredModel stored)
    {
        lock (_gate)
        {
            if (_byManifest.TryGetValue(stored.Digest, out var known)) return known;
        }
        var prepared = Prepare(stored);
        lock (_gate)
        {
            // Another request may have prepared it meanwhile: keep one.
            if (_byManifest.TryGetValue(stored.Digest, out var raced)) return raced;
            _byManifest[stored.Digest] = prepared;
            return prepared;
        }
    }

    /// <summary>Keeps only the prepared models some resolved name uses. Caller holds the gate.</summary>
    private void DropUnused()
    {
        var used = _byName.Values.Select(e => e.Definition.Prepared.ManifestDigest).ToHashSet(StringComparer.Ordinal);
        foreach (var digest in _byManifest.Keys.Where(d => !used.Contains(d)).ToList()) _byManifest.Remove(digest);
    }

    private PreparedModel Prepare(StoredModel stored)
    {
        var manifest = stored.Manifest;
        var path = Store.ModelPath(manifest);
        var gguf = HeaderSummary(path);
        return new PreparedModel(
            stored.Digest,
            path,
            gguf,
            Text(manifest, MediaTypes.Template),
            Text(manifest, MediaTypes.System),
            ReadParameters(manifest),
            Text(manifest, MediaTypes.License),
            ReadMessages(manifest),
            ReadAdapters(manifest, gguf));
    }

    /// <summary>
    /// The manifest's adapter layers, each checked against the base model before llama.cpp ever sees it (a pulled
    /// model or one another tool wrote did not pass /api/create's check): a bad one makes the model unusable.
    /// </summary>
    private List<AdapterFile> ReadAdapters(ModelManifest manifest, GgufFile baseModel)
    {
        var layers = manifest.Layers.Where(l => l.MediaType == MediaTypes.Adapter).ToList();
        if (layers.Count > LoraAdapterCheck.MaxAdapters)
            throw new InvalidManifestException($"the manifest has {layers.Count} adapter layers; at most {LoraAdapterCheck.MaxAdapters} are supported");
        var adapters = new List<AdapterFile>();
        foreach (var layer in layers)
        {
            var path = Store.BlobPath(layer.Digest);
            GgufFile adapter;
            try
            {
                using var stream = Store.OpenForReading(path);
                adapter = GgufFile.ReadSummary(stream, stream.Length);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new InvalidManifestException($"the adapter blob {layer.Digest} is missing from the store");
            }
            catch (InvalidGgufException e)
            {
                throw new InvalidManifestException($"the adapter blob {layer.Digest} is not a valid GGUF: {e.Message}");
            }
            if (LoraAdapterCheck.Problem(adapter, baseModel) is { } problem)
                throw new InvalidManifestException($"the adapter blob {layer.Digest} cannot be applied: {problem}");
            adapters.Add(new AdapterFile(layer.Digest, path, MemoryEstimate.Add(adapter.Tensors.Select(t => t.ByteSize).ToArray())));
        }
        return adapters;
    }

    /// <summary>The GGUF summary of a model blob: shared with a prepared model of the same blob (another template over the same weights), else read.</summary>
    private GgufFile HeaderSummary(string path)
    {
        lock (_gate)
        {
            foreach (var prepared in _byManifest.Values)
                if (prepared.ModelPath == path) return prepared.Gguf;
        }
        using var stream = Store.OpenForReading(path);
        return GgufFile.ReadSummary(stream, stream.Length);
    }

    private string? Text(ModelManifest manifest, string mediaType) =>
        manifest.Find(mediaType) is { } layer ? Store.ReadText(layer) : null;

    /// <summary>The conversation a model starts with (Ollama's messages layer: [{"role","content"}]).</summary>
    private IReadOnlyList<Prompting.ChatMessage> ReadMessages(ModelManifest manifest)
    {
        var json = Text(manifest, MediaTypes.Messages);
        if (string.IsNullOrWhiteSpace(json)) return [];
        try
        {
            return JsonSerializer.Deserialize(json, EngineJsonContext.Default.ChatMessageArray) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private ModelOptions ReadParameters(ModelManifest manifest)
    {
        var json = Text(manifest, MediaTypes.Params);
        if (string.IsNullOrWhiteSpace(json)) return new ModelOptions();
        try
        {
            return JsonSerializer.Deserialize(json, EngineJsonContext.Default.ModelOptions) ?? new ModelOptions();
        }
        catch (JsonException)
        {
            // A params layer written by another tool with values we do not model: ignore it rather than refuse the model.
            return new ModelOptions();
        }
    }
}
