using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Server.OpenAI;

// Wire contracts of the OpenAI-compatible API (chat completions, completions, models).

public sealed record OpenAIMessage
{
    [JsonPropertyName("role")] public string? Role { get; init; }
    /// <summary>A string, or an array of content parts ({"type":"text","text":"..."}).</summary>
    [JsonPropertyName("content")] public JsonElement? Content { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    /// <summary>An assistant message's calls: [{"id", "type": "function", "function": {"name", "arguments": "&lt;json&gt;"}}].</summary>
    [JsonPropertyName("tool_calls")] public JsonElement? ToolCalls { get; init; }
    /// <summary>For role "tool": the call this message answers.</summary>
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; init; }
    /// <summary>An assistant's earlier reasoning: Ollama's compatibility layer reads "reasoning", llama-server "reasoning_content".</summary>
    [JsonPropertyName("reasoning")] public string? Reasoning { get; init; }
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get; init; }
}

public sealed record StreamOptions
{
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; init; }
}

/// <summary>Sampling fields shared by chat completions and completions.</summary>
public abstract record OpenAISamplingRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    [JsonPropertyName("stream_options")] public StreamOptions? StreamOptions { get; init; }
    /// <summary>A string or an array of up to 4 strings.</summary>
    [JsonPropertyName("stop")] public JsonElement? Stop { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }
    [JsonPropertyName("temperature")] public float? Temperature { get; init; }
    [JsonPropertyName("top_p")] public float? TopP { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("frequency_penalty")] public float? FrequencyPenalty { get; init; }
    [JsonPropertyName("presence_penalty")] public float? PresencePenalty { get; init; }
    [JsonPropertyName("n")] public int? N { get; init; }
    [JsonPropertyName("logprobs")] public JsonElement? Logprobs { get; init; }
    /// <summary>This server's extension: false returns structured output cut where the budget ran out instead of closed.</summary>
    [JsonPropertyName("close_json")] public bool? CloseJson { get; init; }
    /// <summary>A GBNF grammar for the output, as llama-server and vLLM take it.</summary>
    [JsonPropertyName("grammar")] public string? Grammar { get; init; }
}

public sealed record ChatCompletionRequest : OpenAISamplingRequest
{
    [JsonPropertyName("messages")] public OpenAIMessage[]? Messages { get; init; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }
    [JsonPropertyName("top_logprobs")] public int? TopLogprobs { get; init; }
    [JsonPropertyName("response_format")] public JsonElement? ResponseFormat { get; init; }
    [JsonPropertyName("tools")] public JsonElement? Tools { get; init; }
    /// <summary>"none", "auto", "required" or {"type": "function", "function": {"name": ...}}.</summary>
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; init; }
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; init; }
    /// <summary>"none", "minimal", "low", "medium", "high", "xhigh", "ultra" or "max": think, as Ollama maps it.</summary>
    [JsonPropertyName("reasoning_effort")] public string? ReasoningEffort { get; init; }
    /// <summary>{"effort": ...}: the same, in Ollama's compatibility layer's other spelling.</summary>
    [JsonPropertyName("reasoning")] public JsonElement? Reasoning { get; init; }
}

public sealed record CompletionRequest : OpenAISamplingRequest
{
    [JsonPropertyName("prompt")] public JsonElement? Prompt { get; init; }
    [JsonPropertyName("suffix")] public string? Suffix { get; init; }
}

public sealed record PromptTokensDetails([property: JsonPropertyName("cached_tokens")] int CachedTokens);

public sealed record Usage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens,
    [property: JsonPropertyName("prompt_tokens_details")] PromptTokensDetails PromptTokensDetails);

/// <summary>The reply; content is null (and written as null) when the reply is only tool calls, as OpenAI does.</summary>
public sealed record AssistantMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Content)
{
    /// <summary>The reasoning, under llama-server's (and DeepSeek's) name; null when the model did not think.</summary>
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get; init; }
    /// <summary>The same reasoning under Ollama's name.</summary>
    [JsonPropertyName("reasoning")] public string? Reasoning { get; init; }
    [JsonPropertyName("tool_calls")] public IReadOnlyList<OpenAIToolCall>? ToolCalls { get; init; }
}

/// <summary>A call the model made; arguments are JSON text. <see cref="Index"/> is only sent in streamed deltas.</summary>
public sealed record OpenAIToolCall(
    [property: JsonPropertyName("index")] int? Index,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("function")] OpenAIFunctionCall Function);

public sealed record OpenAIFunctionCall(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments);

/// <summary>Per generated token (same entry shape as Ollama's logprobs).</summary>
public sealed record ChoiceLogprobs([property: JsonPropertyName("content")] IReadOnlyList<Contracts.LogprobDto> Content);

public sealed record ChatChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] AssistantMessage Message,
    [property: JsonPropertyName("finish_reason")] string FinishReason,
    [property: JsonPropertyName("logprobs")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ChoiceLogprobs? Logprobs = null);

public sealed record ChatCompletion
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object { get; init; } = "chat.completion";
    [JsonPropertyName("created")] public required long Created { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("system_fingerprint")] public string SystemFingerprint { get; init; } = OpenAIApi.Fingerprint;
    [JsonPropertyName("choices")] public required IReadOnlyList<ChatChoice> Choices { get; init; }
    [JsonPropertyName("usage")] public required Usage Usage { get; init; }
}

public sealed record ChunkDelta
{
    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("content")] public string? Content { get; init; }
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get; init; }
    [JsonPropertyName("reasoning")] public string? Reasoning { get; init; }
    [JsonPropertyName("tool_calls")] public IReadOnlyList<OpenAIToolCall>? ToolCalls { get; init; }
}

public sealed record ChunkChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("delta")] ChunkDelta Delta,
    [property: JsonPropertyName("finish_reason")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason,
    [property: JsonPropertyName("logprobs")] ChoiceLogprobs? Logprobs = null);

public sealed record ChatCompletionChunk
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object { get; init; } = "chat.completion.chunk";
    [JsonPropertyName("created")] public required long Created { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("system_fingerprint")] public string SystemFingerprint { get; init; } = OpenAIApi.Fingerprint;
    [JsonPropertyName("choices")] public required IReadOnlyList<ChunkChoice> Choices { get; init; }
    [JsonPropertyName("usage")] public Usage? Usage { get; init; }
}

public sealed record CompletionChoice(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("logprobs")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] LegacyLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

public sealed record Completion
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object { get; init; } = "text_completion";
    [JsonPropertyName("created")] public required long Created { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("system_fingerprint")] public string SystemFingerprint { get; init; } = OpenAIApi.Fingerprint;
    [JsonPropertyName("choices")] public required IReadOnlyList<CompletionChoice> Choices { get; init; }
    [JsonPropertyName("usage")] public Usage? Usage { get; init; }
}

public sealed record OpenAIModel(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);

public sealed record ModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAIModel> Data);

public sealed record OpenAIErrorBody(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonPropertyName("code")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);

public sealed record OpenAIError([property: JsonPropertyName("error")] OpenAIErrorBody Error);

public sealed record EmbeddingsRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    /// <summary>A string or an array of strings.</summary>
    [JsonPropertyName("input")] public JsonElement? Input { get; init; }
    [JsonPropertyName("dimensions")] public int? Dimensions { get; init; }
    /// <summary>"float" (default) or "base64" (little-endian float32 bytes; the openai client asks for this).</summary>
    [JsonPropertyName("encoding_format")] public string? EncodingFormat { get; init; }
}

public sealed record EmbeddingData(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("index")] int Index,
    /// <summary>A float array, or a base64 string when asked for.</summary>
    [property: JsonPropertyName("embedding")] JsonElement Embedding);

public sealed record EmbeddingUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

public sealed record EmbeddingList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<EmbeddingData> Data,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] EmbeddingUsage Usage);
