using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Server.Ollama;

/// <summary>Source-generated serializers for every Ollama contract (no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GenerateRequest))]
[JsonSerializable(typeof(GenerateResponse))]
[JsonSerializable(typeof(ChatRequest))]
[JsonSerializable(typeof(ChatResponse))]
[JsonSerializable(typeof(VersionResponse))]
[JsonSerializable(typeof(TagsResponse))]
[JsonSerializable(typeof(PsResponse))]
[JsonSerializable(typeof(ShowRequest))]
[JsonSerializable(typeof(ShowResponse))]
[JsonSerializable(typeof(CreateRequest))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(DeleteRequest))]
[JsonSerializable(typeof(CopyRequest))]
[JsonSerializable(typeof(EmbedRequest))]
[JsonSerializable(typeof(PullRequest))]
[JsonSerializable(typeof(PullProgressResponse))]
[JsonSerializable(typeof(EmbedResponse))]
[JsonSerializable(typeof(LegacyEmbeddingsRequest))]
[JsonSerializable(typeof(LegacyEmbeddingsResponse))]
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(List<object?>))]
[JsonSerializable(typeof(IReadOnlyList<object?>))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(ulong))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(string))]
internal sealed partial class OllamaJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The instance every route uses: like Go's encoder it leaves quotes and non-ASCII text readable
    /// ("model 'x' not found", not "model \u0027x\u0027 not found").
    /// </summary>
    public static OllamaJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
