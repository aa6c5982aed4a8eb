using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Server.Anthropic;

// Wire contracts of Anthropic's Messages API (POST /v1/messages).

public sealed record AnthropicRequestMessage
{
    [JsonPropertyName("role")] public string? Role { get; init; }
    /// <summary>A string, or an array of content blocks (text, tool_use, tool_result).</summary>
    [JsonPropertyName("content")] public JsonElement? Content { get; init; }
}

public sealed record MessagesRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    /// <summary>Required by Anthropic: the most tokens to generate.</summary>
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    /// <summary>A string or an array of text blocks.</summary>
    [JsonPropertyName("system")] public JsonElement? System { get; init; }
    [JsonPropertyName("messages")] public AnthropicRequestMessage?[]? Messages { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    /// <summary>[{name, description, input_schema}].</summary>
    [JsonPropertyName("tools")] public JsonElement? Tools { get; init; }
    /// <summary>{type: auto | any | tool | none, name?, disable_parallel_tool_use?}.</summary>
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; init; }
    [JsonPropertyName("stop_sequences")] public string[]? StopSequences { get; init; }
    [JsonPropertyName("temperature")] public float? Temperature { get; init; }
    [JsonPropertyName("top_p")] public float? TopP { get; init; }
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
    /// <summary>{type: enabled (with budget_tokens) | disabled | adaptive}: whether the model thinks.</summary>
    [JsonPropertyName("thinking")] public JsonElement? Thinking { get; init; }
    /// <summary>{effort: low | medium | high | xhigh | max}: the thinking level when thinking is not set.</summary>
    [JsonPropertyName("output_config")] public JsonElement? OutputConfig { get; init; }
}

/// <summary>A block of the reply: {"type":"thinking","thinking","signature"}, {"type":"text","text"} or {"type":"tool_use","id","name","input"}.</summary>
public sealed record ContentBlock([property: JsonPropertyName("type")] string Type)
{
    [JsonPropertyName("thinking")] public string? Thinking { get; init; }
    /// <summary>Always "" on thinking blocks: nothing is signed here (Anthropic's SDK types expect the field).</summary>
    [JsonPropertyName("signature")] public string? Signature { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("input")] public JsonElement? Input { get; init; }

    public static ContentBlock OfText(string text) => new("text") { Text = text };

    public static ContentBlock OfThinking(string thinking) => new("thinking") { Thinking = thinking, Signature = "" };
}

/// <summary>input_tokens counts the whole prompt, tokens reused from the prefix cache included (as Ollama reports it).</summary>
public sealed record AnthropicUsage(
    [property: JsonPropertyName("input_tokens")] int InputTokens,
    [property: JsonPropertyName("output_tokens")] int OutputTokens);

public sealed record MessageResponse
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("type")] public string Type { get; init; } = "message";
    [JsonPropertyName("role")] public string Role { get; init; } = "assistant";
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("content")] public required IReadOnlyList<ContentBlock> Content { get; init; }
    [JsonPropertyName("stop_reason")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? StopReason { get; init; }
    [JsonPropertyName("stop_sequence")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? StopSequence { get; init; }
    [JsonPropertyName("usage")] public required AnthropicUsage Usage { get; init; }
}

// Stream events: each is sent as "event: <type>" and "data: <json>".

public sealed record MessageStartEvent([property: JsonPropertyName("message")] MessageResponse Message)
{
    [JsonPropertyName("type")] [JsonPropertyOrder(-1)] public string Type => "message_start";
}

public sealed record ContentBlockStartEvent(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("content_block")] ContentBlock ContentBlock)
{
    [JsonPropertyName("type")] [JsonPropertyOrder(-1)] public string Type => "content_block_start";
}

/// <summary>{"type":"text_delta","text"}, {"type":"thinking_delta","thinking"} or {"type":"input_json_delta","partial_json"}.</summary>
public sealed record BlockDelta([property: JsonPropertyName("type")] string Type)
{
    [JsonPropertyName("thinking")] public string? Thinking { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("partial_json")] public string? PartialJson { get; init; }
}

public sealed record ContentBlockDeltaEvent(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("delta")] BlockDelta Delta)
{
    [JsonPropertyName("type")] [JsonPropertyOrder(-1)] public string Type => "content_block_delta";
}

public sealed record ContentBlockStopEvent([property: JsonPropertyName("index")] int Index)
{
    [JsonPropertyName("type")] [JsonPropertyOrder(-1)] public string Type => "content_block_stop";
}

public sealed record StopDelta(
    [property: JsonPropertyName("stop_reason")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? StopReason,
    [property: JsonPropertyName("stop_sequence")] [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? StopSequence);

public sealed record MessageDeltaEvent(
    [property: JsonPropertyName("delta")] StopDelta Delta,
    [property: JsonPropertyName("usage")] AnthropicUsage Usage)
{
    [JsonPropertyName("type")] [JsonPropertyOrder(-1)] public string Type => "message_delta";
}

public sealed record MessageStopEvent
{
    [JsonPropertyName("type")] [JsonPropertyOrder(-1)] public string Type => "message_stop";
}

public sealed record AnthropicErrorBody(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("message")] string Message);

/// <summary>Anthropic's error object, as a response body and as a stream's "error" event.</summary>
public sealed record AnthropicError([property: JsonPropertyName("error")] AnthropicErrorBody Error)
{
    [JsonPropertyName("type")] [JsonPropertyOrder(-1)] public string Type => "error";
}
