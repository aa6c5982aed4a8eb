using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Server.Responses;

// Wire contracts of OpenAI's Responses API (POST /v1/responses), stateless.

public sealed record TextOptions
{
    /// <summary>{"type":"text"}, {"type":"json_object"} or {"type":"json_schema","name","schema","strict"}.</summary>
    [JsonPropertyName("format")] public JsonElement? Format { get; init; }
}

public sealed record ResponsesRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    /// <summary>A string, or an array of items: messages, function_call and function_call_output.</summary>
    [JsonPropertyName("input")] public JsonElement? Input { get; init; }
    [JsonPropertyName("instructions")] public string? Instructions { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    /// <summary>[{type: "function", name, description, parameters, strict}].</summary>
    [JsonPropertyName("tools")] public JsonElement? Tools { get; init; }
    /// <summary>"none", "auto", "required" or {"type": "function", "name"}.</summary>
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; init; }
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; init; }
    [JsonPropertyName("text")] public TextOptions? Text { get; init; }
    [JsonPropertyName("max_output_tokens")] public int? MaxOutputTokens { get; init; }
    [JsonPropertyName("temperature")] public float? Temperature { get; init; }
    [JsonPropertyName("top_p")] public float? TopP { get; init; }
    /// <summary>{"effort": none | minimal | low | medium | high | xhigh, "summary"}: think, as Ollama maps it.</summary>
    [JsonPropertyName("reasoning")] public JsonElement? Reasoning { get; init; }
    // Stateful features, refused: this server keeps no responses.
    [JsonPropertyName("previous_response_id")] public string? PreviousResponseId { get; init; }
    [JsonPropertyName("store")] public bool? Store { get; init; }
    [JsonPropertyName("conversation")] public JsonElement? Conversation { get; init; }
    [JsonPropertyName("background")] public bool? Background { get; init; }
}

/// <summary>A message's output_text part, or (<see cref="SummaryText"/>) a reasoning item's summary_text part.</summary>
public sealed record OutputText([property: JsonPropertyName("text")] string Text)
{
    [JsonPropertyName("type")] [JsonPropertyOrder(-1)] public string Type { get; init; } = "output_text";
    [JsonPropertyName("annotations")] public IReadOnlyList<JsonElement>? Annotations { get; init; } = [];

    public static OutputText SummaryText(string text) => new(text) { Type = "summary_text", Annotations = null };
}

/// <summary>
/// An output item: {"type":"reasoning","id","summary","encrypted_content"}, {"type":"message","id","status","role","content"}
/// or {"type":"function_call","id","call_id","name","arguments","status"}.
/// </summary>
public sealed record OutputItem([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("id")] string Id)
{
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("content")] public IReadOnlyList<OutputText>? Content { get; init; }
    [JsonPropertyName("call_id")] public string? CallId { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("arguments")] public string? Arguments { get; init; }
    [JsonPropertyName("summary")] public IReadOnlyList<OutputText>? Summary { get; init; }
    [JsonPropertyName("encrypted_content")] public string? EncryptedContent { get; init; }
}

public sealed record InputTokensDetails([property: JsonPropertyName("cached_tokens")] int CachedTokens);

public sealed record OutputTokensDetails([property: JsonPropertyName("reasoning_tokens")] int ReasoningTokens);

public sealed record ResponseUsage(
    [property: JsonPropertyName("input_tokens")] int InputTokens,
    [property: JsonPropertyName("input_tokens_details")] InputTokensDetails InputTokensDetails,
    [property: JsonPropertyName("output_tokens")] int OutputTokens,
    [property: JsonPropertyName("output_tokens_details")] OutputTokensDetails OutputTokensDetails,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

public sealed record IncompleteDetails([property: JsonPropertyName("reason")] string Reason);

public sealed record ResponseObject
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object => "response";
    [JsonPropertyName("created_at")] public long CreatedAt { get; init; }
    /// <summary>in_progress, completed or incomplete (the token budget ran out).</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("output")] public required IReadOnlyList<OutputItem> Output { get; init; }
    [JsonPropertyName("usage")] public ResponseUsage? Usage { get; init; }
    [JsonPropertyName("incomplete_details")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public IncompleteDetails? IncompleteDetails { get; init; }
    [JsonPropertyName("error")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public JsonElement? Error { get; init; }
    [JsonPropertyName("instructions")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Instructions { get; init; }
    [JsonPropertyName("max_output_tokens")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public int? MaxOutputTokens { get; init; }
    [JsonPropertyName("temperature")] public float? Temperature { get; init; }
    [JsonPropertyName("top_p")] public float? TopP { get; init; }
    [JsonPropertyName("tools")] public JsonElement? Tools { get; init; }
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; init; }
    [JsonPropertyName("parallel_tool_calls")] public bool ParallelToolCalls { get; init; } = true;
    [JsonPropertyName("text")] public TextOptions? Text { get; init; }
    /// <summary>The request's reasoning settings, echoed as Ollama does; absent when the request had none.</summary>
    [JsonPropertyName("reasoning")] public JsonElement? Reasoning { get; init; }
    [JsonPropertyName("previous_response_id")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? PreviousResponseId => null;
    /// <summary>Always false: nothing is kept (the API is stateless here).</summary>
    [JsonPropertyName("store")] public bool Store => false;
}

/// <summary>
/// One stream event; which fields it carries depends on its type (response.created, response.output_text.delta, ...).
/// <see cref="SequenceNumber"/> counts the events of one stream from 0.
/// </summary>
public sealed record ResponseStreamEvent([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("sequence_number")] int SequenceNumber)
{
    [JsonPropertyName("response")] public ResponseObject? Response { get; init; }
    [JsonPropertyName("output_index")] public int? OutputIndex { get; init; }
    [JsonPropertyName("item_id")] public string? ItemId { get; init; }
    [JsonPropertyName("content_index")] public int? ContentIndex { get; init; }
    [JsonPropertyName("summary_index")] public int? SummaryIndex { get; init; }
    [JsonPropertyName("item")] public OutputItem? Item { get; init; }
    [JsonPropertyName("part")] public OutputText? Part { get; init; }
    [JsonPropertyName("delta")] public string? Delta { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("arguments")] public string? Arguments { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("logprobs")] public IReadOnlyList<JsonElement>? Logprobs { get; init; }
    // The "error" event's fields.
    [JsonPropertyName("code")] public string? Code { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
}
