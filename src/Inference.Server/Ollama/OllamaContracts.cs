using System.Text.Json;
using System.Text.Json.Serialization;
using Inference.Engine.Models;
using Inference.Server.Contracts;

namespace Inference.Server.Ollama;

// Wire contracts of Ollama's API (docs/api.md). Field names are Ollama's; nulls are omitted.

public sealed record GenerateRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("prompt")] public string? Prompt { get; init; }
    [JsonPropertyName("suffix")] public string? Suffix { get; init; }
    [JsonPropertyName("system")] public string? System { get; init; }
    [JsonPropertyName("template")] public string? Template { get; init; }
    [JsonPropertyName("raw")] public bool? Raw { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    [JsonPropertyName("format")] public JsonElement? Format { get; init; }
    [JsonPropertyName("images")] public string[]? Images { get; init; }
    [JsonPropertyName("context")] public int[]? Context { get; init; }
    [JsonPropertyName("options")] public ModelOptions? Options { get; init; }
    [JsonPropertyName("keep_alive")] public JsonElement? KeepAlive { get; init; }
    [JsonPropertyName("logprobs")] public bool? Logprobs { get; init; }
    [JsonPropertyName("top_logprobs")] public int? TopLogprobs { get; init; }
    /// <summary>true, false, "low", "medium", "high" or "max" (Ollama's ThinkValue).</summary>
    [JsonPropertyName("think")] public JsonElement? Think { get; init; }
    /// <summary>A GBNF grammar for the output (llama-server's field; not in Ollama).</summary>
    [JsonPropertyName("grammar")] public string? Grammar { get; init; }
    [JsonPropertyName("truncate")] public bool? Truncate { get; init; }
    [JsonPropertyName("shift")] public bool? Shift { get; init; }
}

public sealed record ChatMessageDto
{
    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("content")] public string? Content { get; init; }
    [JsonPropertyName("images")] public string[]? Images { get; init; }
    [JsonPropertyName("tool_calls")] public JsonElement? ToolCalls { get; init; }
    /// <summary>For role "tool": the function whose result this is.</summary>
    [JsonPropertyName("tool_name")] public string? ToolName { get; init; }
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; init; }
    /// <summary>An assistant's reasoning in an earlier turn (shown to the template as .Thinking).</summary>
    [JsonPropertyName("thinking")] public string? Thinking { get; init; }
}

public sealed record ChatRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("messages")] public ChatMessageDto[]? Messages { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    [JsonPropertyName("format")] public JsonElement? Format { get; init; }
    [JsonPropertyName("tools")] public JsonElement? Tools { get; init; }
    [JsonPropertyName("options")] public ModelOptions? Options { get; init; }
    [JsonPropertyName("keep_alive")] public JsonElement? KeepAlive { get; init; }
    [JsonPropertyName("logprobs")] public bool? Logprobs { get; init; }
    [JsonPropertyName("top_logprobs")] public int? TopLogprobs { get; init; }
    /// <summary>true, false, "low", "medium", "high" or "max" (Ollama's ThinkValue).</summary>
    [JsonPropertyName("think")] public JsonElement? Think { get; init; }
    /// <summary>A GBNF grammar for the output (llama-server's field; not in Ollama).</summary>
    [JsonPropertyName("grammar")] public string? Grammar { get; init; }
    [JsonPropertyName("truncate")] public bool? Truncate { get; init; }
    [JsonPropertyName("shift")] public bool? Shift { get; init; }
}

/// <summary>Timing and token counts of the final object (durations in nanoseconds).</summary>
public abstract record GenerationSummary
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("created_at")] public required DateTimeOffset CreatedAt { get; init; }
    [JsonPropertyName("done")] public bool Done { get; init; }
    [JsonPropertyName("done_reason")] public string? DoneReason { get; init; }
    [JsonPropertyName("total_duration")] public long? TotalDuration { get; init; }
    [JsonPropertyName("load_duration")] public long? LoadDuration { get; init; }
    [JsonPropertyName("prompt_eval_count")] public int? PromptEvalCount { get; init; }
    [JsonPropertyName("prompt_eval_duration")] public long? PromptEvalDuration { get; init; }
    [JsonPropertyName("eval_count")] public int? EvalCount { get; init; }
    [JsonPropertyName("eval_duration")] public long? EvalDuration { get; init; }
    /// <summary>This server's addition (Ollama only logs it): prompt tokens dropped to fit the context; omitted when none.</summary>
    [JsonPropertyName("truncated_tokens")] public long? TruncatedTokens { get; init; }
    /// <summary>This server's addition: times the full context was shifted to go on generating; omitted when none.</summary>
    [JsonPropertyName("context_shifts")] public int? ContextShifts { get; init; }
    /// <summary>Per generated token, when the request asked for logprobs.</summary>
    [JsonPropertyName("logprobs")] public IReadOnlyList<LogprobDto>? Logprobs { get; init; }
}

public sealed record GenerateResponse : GenerationSummary
{
    // Always written, even when empty, as Ollama does.
    [JsonPropertyName("response")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string Response { get; init; } = "";

    /// <summary>The reasoning (think on a thinking model); left out when empty, as Ollama does.</summary>
    [JsonPropertyName("thinking")] public string? Thinking { get; init; }
    /// <summary>The prompt's and the answer's token ids (final object of a non-raw generate), to send back as the next request's context.</summary>
    [JsonPropertyName("context")] public IReadOnlyList<int>? Context { get; init; }
}

public sealed record ChatResponseMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content)
{
    [JsonPropertyName("thinking")] public string? Thinking { get; init; }
    [JsonPropertyName("tool_calls")] public IReadOnlyList<ToolCallDto>? ToolCalls { get; init; }
}

/// <summary>A call the model made: {"id", "function": {"index", "name", "arguments": {...}}}, arguments an object.</summary>
public sealed record ToolCallDto(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("function")] ToolCallFunctionDto Function)
{
    public static IReadOnlyList<ToolCallDto>? From(IReadOnlyList<Inference.Engine.Tools.ToolCall> calls) =>
        calls.Count == 0 ? null : calls.Select(c => new ToolCallDto(c.Id, new ToolCallFunctionDto(c.Index, c.Name, c.Arguments))).ToList();
}

public sealed record ToolCallFunctionDto(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] JsonElement Arguments);

public sealed record ChatResponse : GenerationSummary
{
    [JsonPropertyName("message")] public required ChatResponseMessage Message { get; init; }
}

public sealed record VersionResponse([property: JsonPropertyName("version")] string Version);

public sealed record ModelDetails
{
    [JsonPropertyName("parent_model")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string ParentModel { get; init; } = "";
    [JsonPropertyName("format")] public string Format { get; init; } = "gguf";
    [JsonPropertyName("family")] public required string Family { get; init; }
    [JsonPropertyName("families")] public required string[] Families { get; init; }
    [JsonPropertyName("parameter_size")] public required string ParameterSize { get; init; }
    [JsonPropertyName("quantization_level")] public required string QuantizationLevel { get; init; }
}

public sealed record ListedModel
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("modified_at")] public required DateTimeOffset ModifiedAt { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("details")] public required ModelDetails Details { get; init; }
}

public sealed record TagsResponse([property: JsonPropertyName("models")] IReadOnlyList<ListedModel> Models);

public sealed record RunningModel
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("details")] public required ModelDetails Details { get; init; }
    [JsonPropertyName("expires_at")] public required DateTimeOffset ExpiresAt { get; init; }
    [JsonPropertyName("size_vram")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public long SizeVram { get; init; }
    [JsonPropertyName("context_length")] public int ContextLength { get; init; }
}

public sealed record PsResponse([property: JsonPropertyName("models")] IReadOnlyList<RunningModel> Models);

public sealed record ShowRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("verbose")] public bool? Verbose { get; init; }
}

public sealed record ShowResponse
{
    [JsonPropertyName("license")] public string? License { get; init; }
    [JsonPropertyName("modelfile")] public required string Modelfile { get; init; }
    [JsonPropertyName("parameters")] public string? Parameters { get; init; }
    [JsonPropertyName("template")] public required string Template { get; init; }
    [JsonPropertyName("system")] public string? System { get; init; }
    [JsonPropertyName("details")] public required ModelDetails Details { get; init; }
    [JsonPropertyName("model_info")] public required IReadOnlyDictionary<string, object?> ModelInfo { get; init; }
    [JsonPropertyName("capabilities")] public required string[] Capabilities { get; init; }
    [JsonPropertyName("modified_at")] public required DateTimeOffset ModifiedAt { get; init; }
    /// <summary>The model's MESSAGE layer (role and content), omitted when it has none, as Ollama's ShowResponse.Messages.</summary>
    [JsonPropertyName("messages")] public IReadOnlyList<ChatMessageDto>? Messages { get; init; }
    /// <summary>Every tensor of the GGUF (name, ggml type, shape), as Ollama's ShowResponse.Tensors.</summary>
    [JsonPropertyName("tensors")] public IReadOnlyList<TensorDto>? Tensors { get; init; }
}

/// <summary>One tensor as Ollama's api.Tensor: shape from the innermost dimension outwards, as ggml stores it.</summary>
public sealed record TensorDto(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("shape")] ulong[] Shape);

public sealed record CreateRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("from")] public string? From { get; init; }
    [JsonPropertyName("files")] public Dictionary<string, string>? Files { get; init; }
    [JsonPropertyName("template")] public string? Template { get; init; }
    [JsonPropertyName("system")] public string? System { get; init; }
    [JsonPropertyName("parameters")] public JsonElement? Parameters { get; init; }
    [JsonPropertyName("license")] public JsonElement? License { get; init; }
    [JsonPropertyName("quantize")] public string? Quantize { get; init; }
    [JsonPropertyName("adapters")] public JsonElement? Adapters { get; init; }
    [JsonPropertyName("messages")] public JsonElement? Messages { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
}

public sealed record StatusResponse([property: JsonPropertyName("status")] string Status);

public sealed record DeleteRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
}

public sealed record CopyRequest
{
    [JsonPropertyName("source")] public string? Source { get; init; }
    [JsonPropertyName("destination")] public string? Destination { get; init; }
}
