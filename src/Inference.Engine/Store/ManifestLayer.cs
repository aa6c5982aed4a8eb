using System.Text.Json.Serialization;

namespace Inference.Engine.Store;

/// <summary>A blob reference in a manifest (also used for the config).</summary>
/// <param name="MediaType">One of <see cref="MediaTypes"/>.</param>
/// <param name="Digest"><c>sha256:&lt;64 hex&gt;</c>.</param>
/// <param name="Size">Blob size in bytes.</param>
public sealed record ManifestLayer(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("size")] long Size)
{
    /// <summary>Ollama's optional <c>from</c> (the original source of a layer); kept so manifests round-trip.</summary>
    [JsonPropertyName("from")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? From { get; init; }
}
