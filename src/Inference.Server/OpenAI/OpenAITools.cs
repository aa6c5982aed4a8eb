using System.Text.Json;
using Inference.Engine.Prompting;
using Inference.Engine.Tools;

namespace Inference.Server.OpenAI;

/// <summary>OpenAI's tool fields: tool_choice and parallel_tool_calls, tool messages, and calls in responses.</summary>
internal static class OpenAITools
{
    /// <summary>
    /// How tool_choice names one function: Chat Completions nests it ({"type": "function", "function": {"name"}}),
    /// the Responses API does not ({"type": "function", "name"}). Everything else about tool_choice is the same.
    /// </summary>
    public enum NamedFunction { Nested, Flat }

    /// <summary>
    /// How the response may use the tools; null for "none" (the tools are then left out entirely, so the
    /// model cannot call one). "required" and a named function need tools; parallel_tool_calls false allows one call.
    /// </summary>
    public static bool TryReadChoice(JsonElement? toolChoice, bool? parallel, IReadOnlyList<ToolDefinition> tools,
        out ToolChoice? choice, out RequestFieldError? error) =>
        TryReadChoice(toolChoice, parallel, tools, NamedFunction.Nested, out choice, out error);

    /// <inheritdoc cref="TryReadChoice(JsonElement?, bool?, IReadOnlyList{ToolDefinition}, out ToolChoice?, out RequestFieldError?)"/>
    public static bool TryReadChoice(JsonElement? toolChoice, bool? parallel, IReadOnlyList<ToolDefinition> tools, NamedFunction named,
        out ToolChoice? choice, out RequestFieldError? error)
    {
        choice = null;
        error = null;
        var auto = new ToolChoice(MaxCalls: parallel == false ? 1 : ToolChoice.DefaultMaxCalls);
        switch (toolChoice)
        {
            case null or { ValueKind: JsonValueKind.Null }:
            case { ValueKind: JsonValueKind.String } a when a.GetString() == "auto":
                choice = auto;
                return true;
            case { ValueKind: JsonValueKind.String } n when n.GetString() == "none":
                return true;
            case { ValueKind: JsonValueKind.String } r when r.GetString() == "required":
                choice = auto with { Required = true };
                break;
            case { ValueKind: JsonValueKind.Object } o when Text(o, "type") == "function" && FunctionName(o, named) is { } name:
                choice = auto with { Function = name };
                break;
            default:
                error = new("tool_choice must be \"none\", \"auto\", \"required\" or " + (named == NamedFunction.Nested
                    ? "{\"type\": \"function\", \"function\": {\"name\": \"...\"}}"
                    : "{\"type\": \"function\", \"name\": \"...\"}"), "tool_choice");
                return false;
        }
        if (tools.Count == 0)
        {
            error = new("tool_choice requires tools", "tool_choice");
            return false;
        }
        if (choice.Function is { } function && tools.All(t => t.Name != function))
        {
            error = new($"tool_choice names the function '{function}', which is not in tools", "tool_choice");
            return false;
        }
        return true;
    }

    private static string? FunctionName(JsonElement choice, NamedFunction named) => named == NamedFunction.Flat
        ? Text(choice, "name")
        : choice.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? Text(f, "name") : null;

    private static string? Text(JsonElement o, string property) =>
        o.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>
    /// The function a tool message answers: its "name", else the call with its tool_call_id in an earlier
    /// assistant message (as Ollama does), so templates can show .ToolName.
    /// </summary>
    public static string? ToolNameFor(OpenAIMessage message, IReadOnlyList<ChatMessage> earlier)
    {
        if (!string.IsNullOrEmpty(message.Name)) return message.Name;
        for (int i = earlier.Count - 1; i >= 0; i--)
        {
            if (earlier[i].ToolCalls?.FirstOrDefault(c => c.Id == message.ToolCallId) is { } call) return call.Name;
        }
        return null;
    }

    public static IReadOnlyList<OpenAIToolCall>? ToWire(IReadOnlyList<ToolCall> calls, bool streamed) =>
        calls.Count == 0
            ? null
            : calls.Select(c => new OpenAIToolCall(streamed ? c.Index : null, c.Id ?? ToolCall.NewId(), "function",
                new OpenAIFunctionCall(c.Name, JsonSerializer.Serialize(c.Arguments, OpenAIJsonContext.Wire.JsonElement)))).ToList();
}
