namespace Inference.Engine.Store;

/// <summary>Media types used in Ollama manifests.</summary>
public static class MediaTypes
{
    /// <summary>The manifest itself (Docker image manifest v2, schema 2).</summary>
    public const string Manifest = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>The config blob (see <see cref="ModelConfig"/>).</summary>
    public const string Config = "application/vnd.docker.container.image.v1+json";

    public const string Model = "application/vnd.ollama.image.model";
    public const string Template = "application/vnd.ollama.image.template";
    public const string System = "application/vnd.ollama.image.system";

    /// <summary>A JSON object of default options, e.g. <c>{"stop":["x"],"temperature":0.7}</c>.</summary>
    public const string Params = "application/vnd.ollama.image.params";

    public const string License = "application/vnd.ollama.image.license";

    /// <summary>A JSON array of preset chat messages.</summary>
    public const string Messages = "application/vnd.ollama.image.messages";

    public const string Adapter = "application/vnd.ollama.image.adapter";
    public const string Projector = "application/vnd.ollama.image.projector";
}
