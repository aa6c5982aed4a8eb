using System.Text;
using System.Text.Json;

namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    /// <summary>
    /// The blob of <paramref name="layer"/> as UTF-8 text (template, system, license...), or null when
    /// the blob is missing; <see cref="InvalidManifestException"/> when it is larger than
    /// <see cref="LayerRules.MaxMetadataBytes"/> (a manifest pointing a text layer at a model blob).
    /// </summary>
    public string? ReadText(ManifestLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return ReadMetadataBlob(layer) is { } bytes ? new UTF8Encoding(false).GetString(bytes) : null;
    }

    /// <summary>Path of the GGUF blob of the manifest's model layer.</summary>
    /// <exception cref="InvalidManifestException">The manifest has no model layer, or its blob is missing.</exception>
    public string ModelPath(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var layer = manifest.Find(MediaTypes.Model) ?? throw new InvalidManifestException("the manifest has no model layer");
        string path = BlobPath(layer.Digest);
        return File.Exists(path) ? path : throw new InvalidManifestException($"the model blob {layer.Digest} is missing from the store");
    }

    /// <summary>The manifest's config blob, or null when the blob is missing; <see cref="InvalidManifestException"/> when it is not valid JSON or too large.</summary>
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
        if (ReadMetadataBlob(layer) is not { } bytes)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, typeInfo);
        }
        catch (JsonException e)
        {
            throw new InvalidManifestException($"blob {layer.Digest} ({layer.MediaType}) is not valid JSON of the expected shape (at {e.Path ?? "$"})", e);
        }
    }

    /// <summary>A metadata blob's bytes, or null when it is missing; refuses one larger than <see cref="LayerRules.MaxMetadataBytes"/> before reading it.</summary>
    private byte[]? ReadMetadataBlob(ManifestLayer layer)
    {
        string path = BlobPath(layer.Digest);
        Stream file;
        try
        {
            file = OpenForReading(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        using (file)
        {
            if (file.Length > LayerRules.MaxMetadataBytes)
            {
                throw new InvalidManifestException($"blob {layer.Digest} ({layer.MediaType}) is {file.Length} bytes; at most {LayerRules.MaxMetadataBytes} are read");
            }
            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            return bytes;
        }
    }
}
