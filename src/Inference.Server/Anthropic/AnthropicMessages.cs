using System.Text;
using System.Text.Json;
using Inference.Engine.Prompting;
using Inference.Engine.Tools;
using Inference.Server.Http;

namespace Inference.Server.Anthropic;

/// <summary>
/// A Messages request's system, messages, tools and tool_choice as the engine's chat turns and tools. Content
/// blocks are allowlisted: text, tool_use and thinking (assistant) and tool_result (user); anything else (images,
/// documents) is refused with the block's path. An assistant's thinking blocks become the turn's reasoning
/// (the template's .Thinking); redacted_thinking blocks hold nothing readable and are left out. A user turn's tool_result blocks become tool messages, before
/// its text, as Anthropic requires results to come first.
/// </summary>
internal static class AnthropicMessages
{
    public static bool TryReadSystem(JsonElement? system, out string? text, out string? error)
    {
        text = error = null;
        switch (system)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                return true;
            case { ValueKind: JsonValueKind.String } s:
                text = s.GetString();
                return true;
            case { ValueKind: JsonValueKind.Array } blocks:
                text = TextOf(blocks, "system", out error);
                return text is not null;
            default:
                error = "system: must be a string or an array of text blocks";
                return false;
        }
    }

    public static bool TryRead(AnthropicRequestMessage?[] messages, out List<ChatMessage> turns, out string? error)
    {
        turns = [];
        error = null;
        for (int i = 0; i < messages.Length; i++)
        {
            string at = $"messages[{i}]";
            var m = messages[i];
            if (m?.Role is not ("user" or "assistant"))
            {
                error = $"{at}.role: must be \"user\" or \"assistant\"";
                return false;
            }
            switch (m.Content)
            {
                case { ValueKind: JsonValueKind.String } s:
                    turns.Add(new ChatMessage(m.Role, s.GetString()!));
                    break;
                case { ValueKind: JsonValueKind.Array } blocks:
                    if (!TryReadBlocks(m.Role, blocks, $"{at}.content", turns, out error)) return false;
                    break;
                default:
                    error = $"{at}.content: must be a string or an array of content blocks";
                    return false;
            }
        }
        return true;
    }

    private static bool TryReadBlocks(string role, JsonElement blocks, string at, List<ChatMessage> turns, out string? error)
    {
        error = null;
        var text = new StringBuilder();
        var thinking = new StringBuilder();
        var calls = new List<ToolCall>();
        int j = 0, results = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            string path = $"{at}[{j++}]";
            string? type = block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                ? t.GetString() : null;
            switch (type)
            {
                case "text" when block.TryGetProperty("text", out var s) && s.ValueKind == JsonValueKind.String:
                    text.Append(s.GetString());
                    break;
                case "thinking" when role == "assistant":
                    if (!block.TryGetProperty("thinking", out var th) || th.ValueKind != JsonValueKind.String)
                    {
                        error = $"{path}.thinking: must be a string";
                        return false;
                    }
                    thinking.Append(th.GetString());
                    break;
                case "redacted_thinking" when role == "assistant":
                    break;
                case "tool_use" when role == "assistant":
                    if (ReadToolUse(block, path, calls.Count, out error) is not { } call) return false;
                    calls.Add(call);
                    break;
                case "tool_result" when role == "user":
                    if (ReadToolResult(block, path, turns, out error) is not { } result) return false;
                    turns.Add(result);
                    results++;
                    break;
                default:
                    error = $"{path}: only text blocks, tool_use and thinking blocks (assistant) and tool_result blocks (user) are supported";
                    return false;
            }
        }
        // A user turn of only tool results has no text turn of its own.
        if (text.Length > 0 || calls.Count > 0 || role == "assistant" || results == 0)
            turns.Add(new ChatMessage(role, text.ToString())
            {
                ToolCalls = calls.Count > 0 ? calls : null, Thinking = thinking.Length > 0 ? thinking.ToString() : null,
            });
        return true;
    }

    private static ToolCall? ReadToolUse(JsonElement block, string at, int index, out string? error)
    {
        error = null;
        if (!block.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
            error = $"{at}.id: must be a string";
        else if (!block.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() is not { Length: > 0 } n)
            error = $"{at}.name: must be a non-empty string";
        else if (!block.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Object)
            error = $"{at}.input: must be an object";
        else
            return new ToolCall(n, input.Clone(), index, id.GetString());
        return null;
    }

    private static ChatMessage? ReadToolResult(JsonElement block, string at, List<ChatMessage> earlier, out string? error)
    {
        error = null;
        if (!block.TryGetProperty("tool_use_id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            error = $"{at}.tool_use_id: must be a string";
            return null;
        }
        string? content = block.TryGetProperty("content", out var c) ? c.ValueKind switch
        {
            JsonValueKind.String => c.GetString(),
            JsonValueKind.Array => TextOf(c, $"{at}.content", out error),
            JsonValueKind.Null => "",
            _ => null,
        } : "";
        if (content is null)
        {
            error ??= $"{at}.content: must be a string or an array of text blocks";
            return null;
        }
        string callId = id.GetString()!;
        // The function's name, from the call it answers, so templates can show .ToolName (as the chat routes do).
        string? name = earlier.LastOrDefault(m => m.ToolCalls?.Any(x => x.Id == callId) == true)?.ToolCalls!.First(x => x.Id == callId).Name;
        return new ChatMessage("tool", content) { ToolCallId = callId, ToolName = name };
    }

    private static string? TextOf(JsonElement blocks, string at, out string? error)
    {
        error = null;
        var text = new StringBuilder();
        int i = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String
                || t.GetString() != "text" || !block.TryGetProperty("text", out var s) || s.ValueKind != JsonValueKind.String)
            {
                error = $"{at}[{i}]: only text blocks are supported here";
                return null;
            }
            text.Append(s.GetString());
            i++;
        }
        return text.ToString();
    }

    /// <summary>Anthropic's tools: [{name, description, input_schema}] (type absent or "custom"; server tools are not offered).</summary>
    public static bool TryReadTools(JsonElement? tools, out IReadOnlyList<ToolDefinition> definitions, out string? error)
    {
        definitions = [];
        error = null;
        if (tools is null or { ValueKind: JsonValueKind.Null }) return true;
        if (tools.Value.ValueKind != JsonValueKind.Array)
        {
            error = "tools: must be an array";
            return false;
        }
        var list = new List<ToolDefinition>();
        int i = 0;
        foreach (var tool in tools.Value.EnumerateArray())
        {
            string at = $"tools[{i++}]";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                error = $"{at}: must be an object";
                return false;
            }
            if (tool.TryGetProperty("type", out var type) && !(type.ValueKind == JsonValueKind.String && type.GetString() == "custom"))
            {
                error = $"{at}.type: only custom tools (name, description, input_schema) are supported";
                return false;
            }
            if (FunctionTools.Read(tool, at, "input_schema", out var bad) is not { } definition)
            {
                error = bad!.Message;
                return false;
            }
            list.Add(definition);
        }
        if (FunctionTools.Duplicate(list) is { } duplicate)
        {
            error = duplicate.Message;
            return false;
        }
        definitions = list;
        return true;
    }

    /// <summary>
    /// tool_choice {type: auto | any | tool (with name) | none, disable_parallel_tool_use}; null for "none",
    /// which leaves the tools out (the model cannot call one).
    /// </summary>
    public static bool TryReadChoice(JsonElement? choice, IReadOnlyList<ToolDefinition> tools, out ToolChoice? read, out string? error)
    {
        read = null;
        error = null;
        if (choice is null or { ValueKind: JsonValueKind.Null })
        {
            read = ToolChoice.Auto;
            return true;
        }
        var c = choice.Value;
        string? type = c.ValueKind == JsonValueKind.Object && c.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        bool single = c.ValueKind == JsonValueKind.Object && c.TryGetProperty("disable_parallel_tool_use", out var p) && p.ValueKind == JsonValueKind.True;
        var auto = new ToolChoice(MaxCalls: single ? 1 : ToolChoice.DefaultMaxCalls);
        switch (type)
        {
            case "auto":
                read = auto;
                return true;
            case "none":
                return true;
            case "any":
                read = auto with { Required = true };
                break;
            case "tool" when c.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String:
                read = auto with { Function = name.GetString() };
                break;
            default:
                error = "tool_choice: must be {\"type\": \"auto\"}, {\"type\": \"any\"}, {\"type\": \"tool\", \"name\": \"...\"} or {\"type\": \"none\"}";
                return false;
        }
        if (tools.Count == 0)
        {
            error = "tool_choice: requires tools";
            return false;
        }
        if (read.Function is { } function && tools.All(x => x.Name != function))
        {
            error = $"tool_choice: names the tool '{function}', which is not in tools";
            return false;
        }
        return true;
    }
}
