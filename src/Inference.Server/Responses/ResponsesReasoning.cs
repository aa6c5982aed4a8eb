using System.Text;
using System.Text.Json;
using Inference.Engine.Prompting;
using Inference.Engine.Tools;

namespace Inference.Server.Responses;

/// <summary>
/// Reasoning on the Responses API, as Ollama's openai/responses.go has it: the model's thinking is a "reasoning"
/// output item before the message, its text as the one summary part and, as Ollama sends it, again in
/// encrypted_content (plain text: nothing is encrypted here), so a client that sends the item back gives the model
/// its earlier reasoning. An input reasoning item becomes the reasoning (.Thinking) of the assistant turn it precedes.
/// </summary>
internal static class ResponsesReasoning
{
    public static OutputItem Item(string id, string thinking) =>
        new("reasoning", id) { Summary = [OutputText.SummaryText(thinking)], EncryptedContent = thinking };

    /// <summary>
    /// A reasoning input item as an assistant turn holding only the reasoning; the assistant message or function
    /// call that follows joins that turn (<see cref="JoinsReasoning"/>). The text is the item's reasoning_text
    /// content, else its summary, else encrypted_content (where Ollama puts it).
    /// </summary>
    public static ChatMessage? Read(JsonElement item, string at, out RequestFieldError? error)
    {
        error = null;
        var text = new StringBuilder();
        foreach (var (field, partType) in new[] { ("content", "reasoning_text"), ("summary", "summary_text") })
        {
            if (!item.TryGetProperty(field, out var parts) || parts.ValueKind == JsonValueKind.Null) continue;
            if (parts.ValueKind != JsonValueKind.Array)
            {
                error = new($"{at}.{field} must be an array of {partType} parts", $"{at}.{field}");
                return null;
            }
            int i = 0;
            foreach (var part in parts.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || Str(part, "type") != partType || Str(part, "text") is not { } t)
                {
                    error = new($"{at}.{field}[{i}] must be {{\"type\": \"{partType}\", \"text\": \"...\"}}", $"{at}.{field}[{i}]");
                    return null;
                }
                text.Append(t);
                i++;
            }
            if (text.Length > 0) break;
        }
        if (text.Length == 0 && item.TryGetProperty("encrypted_content", out var e) && e.ValueKind is not JsonValueKind.Null)
        {
            if (e.ValueKind != JsonValueKind.String)
            {
                error = new($"{at}.encrypted_content must be a string", $"{at}.encrypted_content");
                return null;
            }
            text.Append(e.GetString());
        }
        return new ChatMessage("assistant", "") { Thinking = text.ToString() };
    }

    /// <summary>Whether an assistant message should fill the turn a reasoning item opened rather than start its own.</summary>
    public static bool JoinsReasoning(List<ChatMessage> turns) =>
        turns.Count > 0 && turns[^1] is { Role: "assistant", Content: "", ToolCalls: null, Thinking: not null };

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
