namespace Inference.Engine.Store;

/// <summary>
/// Bounds on manifests and the layers they list: one place for the limits the store and the
/// puller enforce. A pulled manifest may only list the media types below, each within its size
/// range, so a hostile registry cannot make the server download or buffer what it never uses.
/// </summary>
public static class LayerRules
{
    /// <summary>Manifests are a few hundred bytes; anything larger than this is refused before it is buffered.</summary>
    public const int MaxManifestBytes = 4 << 20;

    /// <summary>Layers one manifest may list (Ollama's models have at most a handful).</summary>
    public const int MaxLayers = 64;

    /// <summary>Config, template, system, params, license and messages blobs are read whole into memory; this bounds them.</summary>
    public const long MaxMetadataBytes = 4 << 20;

    /// <summary>The smallest possible GGUF: magic, version, tensor count and metadata count.</summary>
    public const long MinGgufBytes = 24;

    private static readonly Dictionary<string, (long Min, long Max)> Pullable = new(StringComparer.Ordinal)
    {
        [MediaTypes.Config] = (2, MaxMetadataBytes),
        [MediaTypes.Model] = (MinGgufBytes, long.MaxValue),
        [MediaTypes.Adapter] = (MinGgufBytes, long.MaxValue),
        [MediaTypes.Projector] = (MinGgufBytes, long.MaxValue),
        [MediaTypes.Template] = (0, MaxMetadataBytes),
        [MediaTypes.System] = (0, MaxMetadataBytes),
        [MediaTypes.Params] = (2, MaxMetadataBytes),
        [MediaTypes.License] = (0, MaxMetadataBytes),
        [MediaTypes.Messages] = (2, MaxMetadataBytes),
    };

    /// <summary>True for the media types whose blobs are GGUF files.</summary>
    public static bool IsGguf(string mediaType) => mediaType is MediaTypes.Model or MediaTypes.Adapter or MediaTypes.Projector;

    /// <summary>True for the media types whose blobs are read whole into memory.</summary>
    public static bool IsMetadata(string mediaType) => Pullable.TryGetValue(mediaType, out var range) && range.Max == MaxMetadataBytes;

    /// <summary>
    /// Checks a manifest from a registry before anything is downloaded: the structure every
    /// manifest needs, a config of the config type, exactly one model layer, at most
    /// <see cref="MaxLayers"/> layers, and only known media types within their size ranges.
    /// </summary>
    /// <exception cref="InvalidManifestException">The manifest breaks one of these rules.</exception>
    public static void CheckPullable(ModelManifest? manifest)
    {
        ModelStore.Validate(manifest, "the manifest");
        if (manifest!.Config.MediaType != MediaTypes.Config)
            throw new InvalidManifestException($"the manifest's config has media type '{Echo.Bounded(manifest.Config.MediaType)}', not {MediaTypes.Config}");
        if (manifest.Layers.Count > MaxLayers)
            throw new InvalidManifestException($"the manifest lists {manifest.Layers.Count} layers; at most {MaxLayers} are allowed");
        int models = manifest.Layers.Count(l => l.MediaType == MediaTypes.Model);
        if (models != 1)
            throw new InvalidManifestException($"the manifest has {models} model layers; exactly one is needed");
        foreach (var layer in manifest.AllBlobs)
        {
            if (!Pullable.TryGetValue(layer.MediaType, out var range))
                throw new InvalidManifestException($"the manifest has a layer of unsupported media type '{Echo.Bounded(layer.MediaType)}'");
            if (layer.Size < range.Min || layer.Size > range.Max)
                throw new InvalidManifestException($"the manifest declares {layer.Size} bytes for a {layer.MediaType} layer; allowed are {range.Min} to {range.Max}");
        }
    }
}
