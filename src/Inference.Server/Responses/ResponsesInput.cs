using System.Text;
using System.Text.Json;
using Inference.Engine.Prompting;
using Inference.Engine.Tools;
using Inference.Server.Http;

namespace Inference.Server.Responses;

/// <summary>
/// A Responses request's input, tools and tool_choice as the engine's chat turns and tools. Items are
/// allowlisted: messages (text parts only), reasoning, function_call and function_call_output; other items
/// (images, files, references to stored items) are refused with the item's path.
/// </summary>
internal static class ResponsesInput
{
    public static bool TryRead(JsonElement? input, out List<ChatMessage> turns, out RequestFieldError? error)
    {
        turns = [];
        error = null;
        switch (input)
        {
            case { ValueKind: JsonValueKind.String } s:
                turns.Add(new ChatMessage("user", s.GetString()!));
                return true;
            case { ValueKind: JsonValueKind.Array } items when items.GetArrayLength() > 0:
                int i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    if (!TryReadItem(item, $"input[{i++}]", turns, out error)) return false;
                }
                return true;
            default:
                error = new("input must be a string or a non-empty array of input items", "input");
                return false;
        }
    }

    private static bool TryReadItem(JsonElement item, string at, List<ChatMessage> turns, out RequestFieldError? error)
    {
        error = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            error = new($"{at} must be an object", at);
            return false;
        }
        // A message may leave its type out ("easy input message").
        string? type = Str(item, "type") ?? (item.TryGetProperty("role", out _) ? "message" : null);
        switch (type)
        {
            case "message":
                var role = Str(item, "role") switch { "developer" => "system", var r => r };
                if (role is not ("user" or "assistant" or "system"))
                {
                    error = new($"{at}.role must be \"user\", \"assistant\", \"system\" or \"developer\"", $"{at}.role");
                    return false;
                }
                if (TextOf(item, $"{at}.content", out error) is not { } text) return false;
                if (role == "assistant" && ResponsesReasoning.JoinsReasoning(turns)) turns[^1] = turns[^1] with { Content = text };
                else turns.Add(new ChatMessage(role, text));
                return true;
            case "reasoning":
                if (ResponsesReasoning.Read(item, at, out error) is not { } reasoning) return false;
                turns.Add(reasoning);
                return true;
            case "function_call":
                if (Str(item, "call_id") is not { Length: > 0 } callId) error = new($"{at}.call_id must be a non-empty string", $"{at}.call_id");
                else if (Str(item, "name") is not { Length: > 0 } name) error = new($"{at}.name must be a non-empty string", $"{at}.name");
                else if (ArgumentsOf(item) is not { } arguments) error = new($"{at}.arguments must be a string holding a JSON object", $"{at}.arguments");
                else
                {
                    // Calls follow the assistant turn that made them; consecutive calls are one turn.
                    if (turns.Count == 0 || turns[^1].Role != "assistant") turns.Add(new ChatMessage("assistant", ""));
                    var last = turns[^1];
                    var calls = last.ToolCalls ?? [];
                    turns[^1] = last with { ToolCalls = [.. calls, new ToolCall(name, arguments, calls.Count, callId)] };
                    return true;
                }
                return false;
            case "function_call_output":
                if (Str(item, "call_id") is not { Length: > 0 } answered)
                {
                    error = new($"{at}.call_id must be a non-empty string", $"{at}.call_id");
                    return false;
                }
                if (item.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.Array)
                {
                    if (TextOf(item, $"{at}.output", out error, "output") is not { } parts) return false;
                    turns.Add(ToolResult(answered, parts, turns));
                    return true;
                }
                if (Str(item, "output") is not { } output)
                {
                    error = new($"{at}.output must be a string or an array of input_text parts", $"{at}.output");
                    return false;
                }
                turns.Add(ToolResult(answered, output, turns));
                return true;
            default:
                error = new($"{at}.type must be \"message\", \"reasoning\", \"function_call\" or \"function_call_output\" (this server keeps no items to refer to)", $"{at}.type");
                return false;
        }
    }

    /// <summary>The function's name comes from the call it answers, so templates can show .ToolName.</summary>
    private static ChatMessage ToolResult(string callId, string output, List<ChatMessage> earlier) =>
        new("tool", output)
        {
            ToolCallId = callId,
            ToolName = earlier.LastOrDefault(m => m.ToolCalls?.Any(c => c.Id == callId) == true)?.ToolCalls!.First(c => c.Id == callId).Name,
        };

    private static string? TextOf(JsonElement item, string at, out RequestFieldError? error, string field = "content")
    {
        error = null;
        if (!item.TryGetProperty(field, out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            error = new($"{at} must be a string or an array of text parts", at);
            return null;
        }
        if (content.ValueKind == JsonValueKind.String) return content.GetString();
        var text = new StringBuilder();
        int i = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || Str(part, "type") is not ("input_text" or "output_text") || Str(part, "text") is not { } t)
            {
                error = new($"{at}[{i}]: only input_text and output_text parts are supported", $"{at}[{i}]");
                return null;
            }
            text.Append(t);
            i++;
        }
        return text.ToString();
    }

    private static JsonElement? ArgumentsOf(JsonElement item)
    {
        if (Str(item, "arguments") is not { } text) return null;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Function tools: [{type: "function", name, description, parameters, strict}]; hosted tools are not offered.</summary>
    public static bool TryReadTools(JsonElement? tools, out IReadOnlyList<ToolDefinition> definitions, out RequestFieldError? error)
    {
        definitions = [];
        error = null;
        if (tools is null or { ValueKind: JsonValueKind.Null }) return true;
        if (tools.Value.ValueKind != JsonValueKind.Array)
        {
            error = new("tools must be an array of tool objects", "tools");
            return false;
        }
        var list = new List<ToolDefinition>();
        int i = 0;
        foreach (var tool in tools.Value.EnumerateArray())
        {
            string at = $"tools[{i++}]";
            if (tool.ValueKind != JsonValueKind.Object || Str(tool, "type") != "function")
            {
                error = new($"{at}.type must be \"function\" (hosted tools are not available here)", $"{at}.type");
                return false;
            }
            if (FunctionTools.Read(tool, at, "parameters", out error) is not { } definition) return false;
            list.Add(definition);
        }
        error = FunctionTools.Duplicate(list);
        definitions = list;
        return error is null;
    }
}
