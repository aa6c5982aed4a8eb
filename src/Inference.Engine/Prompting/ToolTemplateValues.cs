using System.Text.Json;
using Inference.Engine.Tools;

namespace Inference.Engine.Prompting;

/// <summary>
/// Tools and tool calls as Ollama hands them to templates (its templateTool and templateToolCall types), so a
/// model's template renders them as it would under Ollama: <c>.Type</c>, <c>.Function.Name</c>,
/// <c>.Function.Description</c>, <c>.Function.Parameters.Properties</c>, <c>.Function.Arguments</c>, and
/// printing a tool or its function gives its JSON. Like Ollama's types, the JSON keeps only the schema
/// keywords those types know (type, description, enum, items, properties, required, anyOf, $defs); Go maps
/// (properties, arguments, free-form values) are written with their keys sorted, as encoding/json does.
/// </summary>
public static class ToolTemplateValues
{
    /// <summary>A tool definition (the request's <c>{"type", "function"}</c> entry) as a templateTool.</summary>
    public static TemplateStruct Tool(JsonElement tool)
    {
        var function = Member(tool, "function");
        var parameters = Member(function, "parameters");
        return new TemplateStruct("templateTool",
        [
            new("Type", Text(tool, "type"), "type"),
            new("Items", Any(Member(tool, "items")), "items", OmitEmpty: true),
            new("Function", new TemplateStruct("templateToolFunction",
            [
                new("Name", Text(function, "name"), "name"),
                new("Description", Text(function, "description"), "description"),
                new("Parameters", new TemplateStruct("templateToolFunctionParameters",
                [
                    new("Type", Text(parameters, "type"), "type"),
                    new("Defs", Any(Member(parameters, "$defs")), "$defs", OmitEmpty: true),
                    new("Items", Any(Member(parameters, "items")), "items", OmitEmpty: true),
                    new("Required", Strings(Member(parameters, "required")), "required", OmitEmpty: true),
                    // Ollama's templateProperties is a plain Go map: sorted keys, and null when absent.
                    new("Properties", Properties(Member(parameters, "properties"), sorted: true), "properties"),
                ]), "parameters"),
            ]), "function"),
        ]);
    }

    /// <summary>A call in an assistant message as a templateToolCall (no json tags, so its JSON uses the Go names).</summary>
    public static TemplateStruct Call(ToolCall call) =>
        new("templateToolCall",
        [
            new("ID", call.Id ?? ""),
            new("Function", new TemplateStruct("templateToolCallFunction",
            [
                new("Index", (long)call.Index),
                new("Name", call.Name),
                // templateArgs: a Go map, printed as JSON with sorted keys.
                new("Arguments", Any(call.Arguments) ?? new SortedDictionary<string, object?>(StringComparer.Ordinal)),
            ])),
        ]);

    /// <summary>Ollama's ToolProperty: every field is omitempty; nested properties keep their order (an ordered map).</summary>
    private static TemplateStruct Property(JsonElement? property) =>
        new("ToolProperty",
        [
            new("AnyOf", Member(property, "anyOf") is { ValueKind: JsonValueKind.Array } anyOf
                ? anyOf.EnumerateArray().Select(p => (object?)Property(p)).ToList()
                : null, "anyOf", OmitEmpty: true),
            new("Type", PropertyType(Member(property, "type")), "type", OmitEmpty: true),
            new("Items", Any(Member(property, "items")), "items", OmitEmpty: true),
            new("Description", Text(property, "description"), "description", OmitEmpty: true),
            new("Enum", Any(Member(property, "enum")) as List<object?>, "enum", OmitEmpty: true),
            new("Properties", Properties(Member(property, "properties"), sorted: false), "properties", OmitEmpty: true),
            new("Required", Strings(Member(property, "required")), "required", OmitEmpty: true),
        ]);

    private static IDictionary<string, object?>? Properties(JsonElement? properties, bool sorted)
    {
        if (properties is not { ValueKind: JsonValueKind.Object } map) return null;
        IDictionary<string, object?> result = sorted
            ? new SortedDictionary<string, object?>(StringComparer.Ordinal)
            : new Dictionary<string, object?>();
        foreach (var p in map.EnumerateObject()) result[p.Name] = Property(p.Value);
        return result;
    }

    /// <summary>PropertyType: one type marshals as a string, several as an array.</summary>
    private static object? PropertyType(JsonElement? type) => type switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String)
            .Select(t => (object?)t.GetString()).ToList(),
        _ => null,
    };

    /// <summary>A JSON value as Go's <c>any</c> after json.Unmarshal: objects become maps (sorted on output).</summary>
    private static object? Any(JsonElement? value) => value?.ValueKind switch
    {
        JsonValueKind.Object => value.Value.EnumerateObject().Aggregate(new SortedDictionary<string, object?>(StringComparer.Ordinal),
            (map, p) => { map[p.Name] = Any(p.Value); return map; }),
        JsonValueKind.Array => value.Value.EnumerateArray().Select(e => Any(e)).ToList(),
        JsonValueKind.String => value.Value.GetString(),
        JsonValueKind.Number => value.Value.TryGetInt64(out long l) ? l : value.Value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static List<object?>? Strings(JsonElement? list) => list is { ValueKind: JsonValueKind.Array } a
        ? a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => (object?)e.GetString()).ToList()
        : null;

    private static JsonElement? Member(JsonElement? holder, string name) =>
        holder is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) ? v : null;

    private static string Text(JsonElement? holder, string name) =>
        Member(holder, name) is { ValueKind: JsonValueKind.String } s ? s.GetString()! : "";
}
