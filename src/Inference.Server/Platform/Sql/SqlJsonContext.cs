using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Server.Platform.Sql;

/// <summary>Source-generated serializers for POST /ai/sql/assist, GET /ai/sql/tenants and for reading the model's JSON answer.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SqlAssistRequest))]
[JsonSerializable(typeof(SqlAssistResponse))]
[JsonSerializable(typeof(SqlTenantsResponse))]
[JsonSerializable(typeof(SqlModelAnswer))]
// Every runtime type SqlValues gives a result cell, so the object-typed rows serialize without reflection.
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(short))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(decimal))]
[JsonSerializable(typeof(float))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(List<object?>))]
internal sealed partial class SqlJsonContext : JsonSerializerContext
{
    public static SqlJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>The JSON object the model writes under the answer grammar.</summary>
internal sealed record SqlModelAnswer
{
    [JsonPropertyName("sql")] public string? Sql { get; init; }
    [JsonPropertyName("explanation")] public string? Explanation { get; init; }
}
