using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Engine.Store;

/// <summary>Source-generated (reflection-free) JSON for the store's files.</summary>
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(ModelConfig))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
public sealed partial class StoreJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context the store uses: compact output that, like Go's encoder, writes '+' (as in
    /// <c>...manifest.v2+json</c>) and non-ASCII text literally instead of as \u escapes.
    /// </summary>
    public static StoreJsonContext Ollama { get; } = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
