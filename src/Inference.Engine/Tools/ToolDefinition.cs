using System.Text.Json;

namespace Inference.Engine.Tools;

/// <summary>
/// One function a model may call, from a request's <c>tools</c> entry
/// <c>{"type": "function", "function": {"name", "description", "parameters"}}</c> (the same shape in
/// Ollama's and OpenAI's APIs). <see cref="Source"/> is the whole entry, kept for the prompt template.
/// </summary>
public sealed record ToolDefinition(string Name, string? Description, JsonElement? Parameters, JsonElement Source)
{
    /// <summary>Names are written into prompts and grammars verbatim, so they are limited to a safe alphabet.</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// Reads a request's <c>tools</c> field. Null, JSON null or an empty array mean no tools. On a bad shape
    /// returns false with a message and the offending field's path (e.g. <c>tools[1].function.name</c>).
    /// </summary>
    public static bool TryParseList(JsonElement? tools, out IReadOnlyList<ToolDefinition> definitions, out RequestFieldError? error)
    {
        definitions = [];
        error = null;
        if (tools is null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }) return true;
        if (tools.Value.ValueKind != JsonValueKind.Array)
        {
            error = new("tools must be an array of tool objects", "tools");
            return false;
        }

        var list = new List<ToolDefinition>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int i = 0;
        foreach (var tool in tools.Value.EnumerateArray())
        {
            string at = $"tools[{i++}]";
            if (Parse(tool, at, out error) is not { } definition) return false;
            if (!names.Add(definition.Name))
            {
                error = new($"{at}.function.name: the function '{definition.Name}' is declared twice", $"{at}.function.name");
                return false;
            }
            list.Add(definition);
        }
        definitions = list;
        return true;
    }

    private static ToolDefinition? Parse(JsonElement tool, string at, out RequestFieldError? error)
    {
        error = null;
        if (tool.ValueKind != JsonValueKind.Object)
        {
            error = new($"{at} must be an object", at);
            return null;
        }
        if (!tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function")
        {
            error = new($"{at}.type must be \"function\"", $"{at}.type");
            return null;
        }
        if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
        {
            error = new($"{at}.function must be an object", $"{at}.function");
            return null;
        }

        string? name = function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (string.IsNullOrEmpty(name))
        {
            error = new($"{at}.function.name must be a non-empty string", $"{at}.function.name");
            return null;
        }
        if (!IsValidName(name))
        {
            error = new($"{at}.function.name must be 1 to {MaxNameLength} letters, digits, underscores, dots, colons or dashes",
                $"{at}.function.name");
            return null;
        }

        string? description = null;
        if (function.TryGetProperty("description", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            if (d.ValueKind != JsonValueKind.String)
            {
                error = new($"{at}.function.description must be a string", $"{at}.function.description");
                return null;
            }
            description = d.GetString();
        }

        JsonElement? parameters = null;
        if (function.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.Object)
            {
                error = new($"{at}.function.parameters must be a JSON Schema object", $"{at}.function.parameters");
                return null;
            }
            parameters = p.Clone();
        }
        return new ToolDefinition(name, description, parameters, tool.Clone());
    }

    /// <summary>
    /// OpenAI's alphabet for function names plus '.' and ':' (seen in namespaced tool names). Quotes,
    /// backslashes and control characters could break the JSON a template writes the name into.
    /// </summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');
}

/// <summary>A request field that is malformed: the message and the field's path (OpenAI's <c>param</c>).</summary>
public sealed record RequestFieldError(string Message, string Param);
