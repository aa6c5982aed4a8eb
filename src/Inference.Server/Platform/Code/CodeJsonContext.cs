using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Server.Platform.Code;

/// <summary>Source-generated serializers for the /ai/code/* contracts.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CodeCompleteRequest))]
[JsonSerializable(typeof(CodeCompleteResponse))]
internal sealed partial class CodeJsonContext : JsonSerializerContext
{
    public static CodeJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
