using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Server.Platform;

/// <summary>Source-generated serializers for the /ai/* contracts shared by the platform routes.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AiGenerateRequest))]
[JsonSerializable(typeof(AiGenerateResponse))]
[JsonSerializable(typeof(AiTokenEvent))]
[JsonSerializable(typeof(AiModelsResponse))]
[JsonSerializable(typeof(List<ServiceStatus>))]
internal sealed partial class PlatformJsonContext : JsonSerializerContext
{
    public static PlatformJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
