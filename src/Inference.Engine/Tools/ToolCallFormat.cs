using System.Text.Json;
using Inference.Engine.Prompting;

namespace Inference.Engine.Tools;

/// <summary>
/// How a model writes tool calls, learned from its own template: the text around the calls
/// (<see cref="Prefix"/>, <see cref="Separator"/>, <see cref="Suffix"/>) and around the function name and
/// arguments inside one call (<see cref="NameOpen"/>, <see cref="NameClose"/>, <see cref="CallClose"/>).
/// For a Qwen-style template: <c>&lt;tool_call&gt;\n</c> + <c>{"name": "</c> NAME <c>", "arguments": </c>
/// ARGS <c>}</c> + <c>\n&lt;/tool_call&gt;</c>. The grammar makes the model write calls exactly this way and
/// the parser reads them back.
/// </summary>
public sealed record ToolCallFormat(string Prefix, string? Separator, string Suffix, string NameOpen, string NameClose, string CallClose)
{
    /// <summary>
    /// For templates whose calls cannot be learned: bare JSON objects, one per line, which is also what
    /// Ollama's parser expects from a template without a tool-call tag.
    /// </summary>
    public static readonly ToolCallFormat PlainJson = new("", "\n", "", "{\"name\": \"", "\", \"arguments\": ", "}");

    /// <summary>
    /// The text that announces tool calls in the output: the prefix without surrounding whitespace (e.g.
    /// <c>&lt;tool_call&gt;</c>), or "{" when calls are bare JSON (as Ollama's parser treats such templates).
    /// </summary>
    public string Trigger => Prefix.Trim() is { Length: > 0 } tag ? tag : "{";

    /// <summary>The closing text after the calls, trimmed (e.g. <c>&lt;/tool_call&gt;</c>); empty when none.</summary>
    public string Closing => Suffix.Trim();

    // Probe values: unlikely to occur in any template's own text.
    private const string NameMarker = "probe_function_";
    private const string ContentMarker = "PROBE_CONTENT_a41c";

    /// <summary>
    /// Renders the template with an assistant turn holding plain content, one call and two calls, and reads
    /// the format off the difference. Falls back to <see cref="PlainJson"/> when the template does not render
    /// calls as JSON objects with the name and an arguments object.
    /// </summary>
    public static ToolCallFormat Infer(GoTemplate template)
    {
        try
        {
            string plain = Render(template, new ChatMessage("assistant", ContentMarker));
            string one = Render(template, CallingMessage(1));
            string two = Render(template, CallingMessage(2));
            if (Middle(plain, one) is not { } middleOne || Middle(plain, two) is not { } middleTwo) return PlainJson;
            if (FindCall(middleOne, NameMarker + 0) is not { } call) return PlainJson;

            var (start, end, nameOpen, nameClose, callClose) = call;
            string prefix = middleOne[..start], suffix = middleOne[end..];
            if (!IsJsonCall(nameOpen, nameClose, callClose) || prefix.Contains(NameMarker) || suffix.Contains(NameMarker)) return PlainJson;

            // Two calls: the text between them separates calls; without a consistent one, one call per response.
            string? separator = null;
            if (FindCall(middleTwo, NameMarker + 0) is { } first && FindCall(middleTwo, NameMarker + 1) is { } second
                && middleTwo[..first.Start] == prefix && middleTwo[second.End..] == suffix && second.Start >= first.End)
            {
                separator = middleTwo[first.End..second.Start];
            }
            return new ToolCallFormat(prefix, separator, suffix, nameOpen, nameClose, callClose);
        }
        catch (TemplateRenderException)
        {
            return PlainJson;
        }
    }

    /// <summary>A conversation around the probed assistant turn; a user turn after it keeps it from being the last.</summary>
    private static string Render(GoTemplate template, ChatMessage assistant)
    {
        var tools = Enumerable.Range(0, 2).Select(i => Tool(NameMarker + i)).ToList();
        return PromptBuilder.RenderGo(template, [new ChatMessage("user", "PROBE_USER_1"), assistant, new ChatMessage("user", "PROBE_USER_2")], tools);
    }

    private static ChatMessage CallingMessage(int calls)
    {
        using var empty = JsonDocument.Parse("{}");
        return new ChatMessage("assistant", "")
        {
            ToolCalls = Enumerable.Range(0, calls).Select(i => new ToolCall(NameMarker + i, empty.RootElement.Clone(), i)).ToList(),
        };
    }

    private static ToolDefinition Tool(string name)
    {
        using var source = JsonDocument.Parse("{\"type\":\"function\",\"function\":{\"name\":\"" + name + "\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}}");
        return new ToolDefinition(name, null, null, source.RootElement.Clone());
    }

    /// <summary>The part of <paramref name="calling"/> that differs from <paramref name="plain"/> (their common prefix and suffix cut off).</summary>
    private static string? Middle(string plain, string calling)
    {
        int prefix = 0;
        while (prefix < plain.Length && prefix < calling.Length && plain[prefix] == calling[prefix]) prefix++;
        int suffix = 0;
        while (suffix < plain.Length - prefix && suffix < calling.Length - prefix && plain[^(suffix + 1)] == calling[^(suffix + 1)]) suffix++;
        string middle = calling[prefix..^suffix];
        return middle.Length > 0 ? middle : null;
    }

    /// <summary>
    /// One rendered call: the '{' before the name opens it, the first "{}" after the name is the (empty)
    /// arguments, and the next '}' closes it. Returns the call's span and the fixed text around name and arguments.
    /// </summary>
    private static (int Start, int End, string NameOpen, string NameClose, string CallClose)? FindCall(string text, string name)
    {
        int at = text.IndexOf(name, StringComparison.Ordinal);
        if (at < 0) return null;
        int open = text.LastIndexOf('{', at);
        int afterName = at + name.Length;
        int arguments = text.IndexOf("{}", afterName, StringComparison.Ordinal);
        if (open < 0 || arguments < 0) return null;
        int close = text.IndexOf('}', arguments + 2);
        if (close < 0) return null;
        return (open, close + 1, text[open..at], text[afterName..arguments], text[(arguments + 2)..(close + 1)]);
    }

    /// <summary>Whether a call written this way is a JSON object holding the name as a string and the arguments object.</summary>
    private static bool IsJsonCall(string nameOpen, string nameClose, string callClose)
    {
        try
        {
            using var call = JsonDocument.Parse(nameOpen + "f" + nameClose + "{\"k\":1}" + callClose);
            if (call.RootElement.ValueKind != JsonValueKind.Object) return false;
            var members = call.RootElement.EnumerateObject().ToList();
            return members.Any(m => m.Value.ValueKind == JsonValueKind.String && m.Value.GetString() == "f")
                && members.Any(m => m.Value.ValueKind == JsonValueKind.Object && m.Value.TryGetProperty("k", out _));
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
