using System.Text.Json.Serialization;

namespace Inference.Server.Platform;

/// <summary>POST /ai/generate. <c>context</c> is extra guidance placed in the system part of the prompt.</summary>
public sealed record AiGenerateRequest
{
    [JsonPropertyName("prompt")] public string? Prompt { get; init; }
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("temperature")] public float? Temperature { get; init; }
    [JsonPropertyName("context")] public string? Context { get; init; }
    [JsonPropertyName("system")] public string? System { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
}

/// <summary>The answer of /ai/generate, and the last server-sent event ("done") of a streamed one.</summary>
public sealed record AiGenerateResponse
{
    [JsonPropertyName("response")] public required string Response { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("eval_count")] public int EvalCount { get; init; }
    [JsonPropertyName("prompt_eval_count")] public int PromptEvalCount { get; init; }
    [JsonPropertyName("done_reason")] public string? DoneReason { get; init; }
    [JsonPropertyName("total_duration_ms")] public double TotalDurationMs { get; init; }
}

/// <summary>One streamed piece of /ai/generate (server-sent event "token").</summary>
public sealed record AiTokenEvent([property: JsonPropertyName("response")] string Response);

/// <summary>GET /ai/models.</summary>
public sealed record AiModelsResponse([property: JsonPropertyName("models")] IReadOnlyList<AiModel> Models);

public sealed record AiModel
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("size")] public long Size { get; init; }
    [JsonPropertyName("modified_at")] public DateTimeOffset ModifiedAt { get; init; }
    [JsonPropertyName("family")] public string Family { get; init; } = "";
    [JsonPropertyName("parameter_size")] public string ParameterSize { get; init; } = "";
    [JsonPropertyName("quantization_level")] public string QuantizationLevel { get; init; } = "";
    [JsonPropertyName("loaded")] public bool Loaded { get; init; }
    /// <summary>The tasks this model is the catalog's choice for ("sql", "code", "generation").</summary>
    [JsonPropertyName("default_for")] public IReadOnlyList<string> DefaultFor { get; init; } = [];
}

/// <summary>One component of GET /services/status.</summary>
public sealed record ServiceStatus
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("url")] public required string Url { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("response_time_ms")] public double ResponseTimeMs { get; init; }
    [JsonPropertyName("detail")] public string? Detail { get; init; }
}
