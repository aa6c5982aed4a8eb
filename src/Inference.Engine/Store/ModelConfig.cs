using System.Text.Json.Serialization;

namespace Inference.Engine.Store;

/// <summary>The config blob of a manifest, with Ollama's field names.</summary>
public sealed record ModelConfig
{
    [JsonPropertyName("model_format")]
    public string? ModelFormat { get; init; }

    [JsonPropertyName("model_family")]
    public string? ModelFamily { get; init; }

    [JsonPropertyName("model_families")]
    public IReadOnlyList<string>? ModelFamilies { get; init; }

    /// <summary>The parameter size, e.g. <c>1.2B</c>.</summary>
    [JsonPropertyName("model_type")]
    public string? ModelType { get; init; }

    /// <summary>The quantization, e.g. <c>Q4_K_M</c>.</summary>
    [JsonPropertyName("file_type")]
    public string? FileType { get; init; }

    /// <summary>The CPU architecture Ollama was running on (e.g. <c>amd64</c>), not the model's.</summary>
    [JsonPropertyName("architecture")]
    public string? Architecture { get; init; }

    [JsonPropertyName("os")]
    public string? OS { get; init; }

    [JsonPropertyName("rootfs")]
    public ModelRootFs? RootFs { get; init; }
}

/// <summary>The <c>rootfs</c> object of the config: the layer digests in order.</summary>
public sealed record ModelRootFs
{
    [JsonPropertyName("type")]
    public string Type { get; init; } = "layers";

    [JsonPropertyName("diff_ids")]
    public IReadOnlyList<string> DiffIds { get; init; } = [];
}
