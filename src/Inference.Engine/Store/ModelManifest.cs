using System.Text.Json.Serialization;

namespace Inference.Engine.Store;

/// <summary>A model manifest as Ollama writes it (Docker image manifest v2, schema 2).</summary>
public sealed class ModelManifest
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 2;

    [JsonPropertyName("mediaType")]
    public string MediaType { get; init; } = MediaTypes.Manifest;

    [JsonPropertyName("config")]
    public required ManifestLayer Config { get; init; }

    [JsonPropertyName("layers")]
    public IReadOnlyList<ManifestLayer> Layers { get; init; } = [];

    /// <summary>The first layer of the given media type, or null.</summary>
    public ManifestLayer? Find(string mediaType)
    {
        foreach (var layer in Layers)
        {
            if (layer.MediaType == mediaType)
            {
                return layer;
            }
        }
        return null;
    }

    /// <summary>The config and every layer: all blobs this manifest needs.</summary>
    [JsonIgnore]
    public IEnumerable<ManifestLayer> AllBlobs => Layers.Prepend(Config);

    /// <summary>Config plus layer sizes, as Ollama reports a model's <c>size</c>.</summary>
    [JsonIgnore]
    public long TotalSize => AllBlobs.Sum(l => l.Size);
}
