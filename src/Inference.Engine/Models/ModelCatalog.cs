using System.Collections.Concurrent;
using System.Text.Json;
using Inference.Engine.Gguf;
using Inference.Engine.Store;

namespace Inference.Engine.Models;

/// <summary>Resolves names to installed models, reading manifests and GGUF headers (cached by blob digest).</summary>
public sealed class ModelCatalog(ModelStore store)
{
    private readonly ConcurrentDictionary<string, GgufFile> _headers = new();

    public ModelStore Store { get; } = store;

    /// <summary>
    /// Null when no such model is installed. Throws <see cref="InvalidManifestException"/> when its
    /// manifest is unusable (corrupt, no model layer, a missing model blob, a metadata layer out of
    /// bounds) and <see cref="InvalidGgufException"/> when its GGUF blob is broken.
    /// </summary>
    public ModelDefinition? Find(ModelName name)
    {
        var stored = Store.Get(name);
        if (stored is null) return null;
        var manifest = stored.Manifest;
        var path = Store.ModelPath(manifest);
        var gguf = _headers.GetOrAdd(manifest.Find(MediaTypes.Model)!.Digest, _ => GgufFile.Read(path));
        return new ModelDefinition(
            name,
            stored,
            path,
            gguf,
            Text(manifest, MediaTypes.Template),
            Text(manifest, MediaTypes.System),
            ReadParameters(manifest),
            Text(manifest, MediaTypes.License),
            ReadMessages(manifest));
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
