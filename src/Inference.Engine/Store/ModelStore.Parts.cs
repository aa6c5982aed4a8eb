using System.Text;
using System.Text.Json;

namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    /// <summary>The blob of <paramref name="layer"/> as UTF-8 text (template, system, license...), or null when the blob is missing.</summary>
    public string? ReadText(ManifestLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        string path = BlobPath(layer.Digest);
        return File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : null;
    }

    /// <summary>Path of the GGUF blob of the manifest's model layer.</summary>
    /// <exception cref="InvalidDataException">The manifest has no model layer.</exception>
    /// <exception cref="FileNotFoundException">The blob is missing.</exception>
    public string ModelPath(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var layer = manifest.Find(MediaTypes.Model) ?? throw new InvalidDataException("manifest has no model layer");
        string path = BlobPath(layer.Digest);
        return File.Exists(path) ? path : throw new FileNotFoundException($"model blob {layer.Digest} is missing from the store", path);
    }

    /// <summary>The manifest's config blob, or null when the blob is missing; <see cref="InvalidDataException"/> when it is not valid JSON.</summary>
    public ModelConfig? ReadConfig(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return ReadJson(manifest.Config, StoreJsonContext.Ollama.ModelConfig);
    }

    /// <summary>The params layer (default options) as JSON values, or null when the manifest has none.</summary>
    public Dictionary<string, JsonElement>? ReadParams(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var layer = manifest.Find(MediaTypes.Params);
        return layer is null ? null : ReadJson(layer, StoreJsonContext.Ollama.DictionaryStringJsonElement);
    }

    private T? ReadJson<T>(ManifestLayer layer, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
        where T : class
    {
        string path = BlobPath(layer.Digest);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), typeInfo);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"blob {layer.Digest} ({layer.MediaType}) is not valid JSON: {e.Message}", e);
        }
    }
}
