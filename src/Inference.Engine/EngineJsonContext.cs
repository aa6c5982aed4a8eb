using System.Text.Json.Serialization;
using Inference.Engine.Models;

namespace Inference.Engine;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ModelOptions))]
[JsonSerializable(typeof(Prompting.ChatMessage[]))]
internal sealed partial class EngineJsonContext : JsonSerializerContext;

/// <summary>Engine types' JSON metadata for the server's use (the context itself stays internal).</summary>
public static class EngineJson
{
    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<ModelOptions> ModelOptions => EngineJsonContext.Default.ModelOptions;
    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<Prompting.ChatMessage[]> Messages => EngineJsonContext.Default.ChatMessageArray;
}
