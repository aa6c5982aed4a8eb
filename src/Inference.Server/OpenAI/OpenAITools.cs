using System.Text.Json;
using Inference.Engine.Prompting;
using Inference.Engine.Tools;

namespace Inference.Server.OpenAI;

/// <summary>OpenAI's tool fields: tool_choice and parallel_tool_calls, tool messages, and calls in responses.</summary>
internal static class OpenAITools
{
    private const string ChoiceShape = "tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": \"...\"}}";

    /// <summary>
    /// How the response may use the tools; null for "none" (the tools are then left out entirely, so the
    /// model cannot call one). "required" and a named function need tools; parallel_tool_calls false allows one call.
    /// </summary>
    public static bool TryReadChoice(JsonElement? toolChoice, bool? parallel, IReadOnlyList<ToolDefinition> tools,
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
            case { ValueKind: JsonValueKind.Object } o when o.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                && type.GetString() == "function" && o.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                && f.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String:
                choice = auto with { Function = name.GetString() };
                break;
            default:
                error = new(ChoiceShape, "tool_choice");
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
