using System.Text.Json;
using Inference.Engine.Tools;

namespace Inference.Server.Http;

/// <summary>
/// Tools declared flat, as Anthropic's Messages API (<c>{name, description, input_schema}</c>) and OpenAI's
/// Responses API (<c>{type: "function", name, description, parameters}</c>) declare them, read into the same
/// <see cref="ToolDefinition"/> the chat routes use: the same name alphabet, and a <see cref="ToolDefinition.Source"/>
/// in the <c>{"type": "function", "function": {...}}</c> shape the prompt templates expect.
/// </summary>
public static class FunctionTools
{
    /// <summary>
    /// One tool's fields, already picked out of the request; <paramref name="at"/> is the entry's path (e.g. <c>tools[1]</c>)
    /// and <paramref name="schemaField"/> the name the API gives the schema (input_schema, parameters).
    /// </summary>
    public static ToolDefinition? Read(JsonElement tool, string at, string schemaField, out RequestFieldError? error)
    {
        error = null;
        string? name = tool.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (string.IsNullOrEmpty(name))
        {
            error = new($"{at}.name must be a non-empty string", $"{at}.name");
            return null;
        }
        if (!ToolDefinition.IsValidName(name))
        {
            error = new($"{at}.name must be 1 to {ToolDefinition.MaxNameLength} letters, digits, underscores, dots, colons or dashes", $"{at}.name");
            return null;
        }
        string? description = null;
        if (tool.TryGetProperty("description", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            if (d.ValueKind != JsonValueKind.String)
            {
                error = new($"{at}.description must be a string", $"{at}.description");
                return null;
            }
            description = d.GetString();
        }
        JsonElement? schema = null;
        if (tool.TryGetProperty(schemaField, out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind != JsonValueKind.Object)
            {
                error = new($"{at}.{schemaField} must be a JSON Schema object", $"{at}.{schemaField}");
                return null;
            }
            schema = s.Clone();
        }
        return new ToolDefinition(name, description, schema, SourceOf(name, description, schema));
    }

    /// <summary>Checks a list for a name declared twice.</summary>
    public static RequestFieldError? Duplicate(IReadOnlyList<ToolDefinition> tools)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < tools.Count; i++)
        {
            if (!names.Add(tools[i].Name))
                return new($"tools[{i}].name: the function '{tools[i].Name}' is declared twice", $"tools[{i}].name");
        }
        return null;
    }

    /// <summary>The entry as the chat APIs write it, which is what templates range over as .Tools.</summary>
    private static JsonElement SourceOf(string name, string? description, JsonElement? schema)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", name);
            if (description is not null) json.WriteString("description", description);
            if (schema is { } parameters)
            {
                json.WritePropertyName("parameters");
                parameters.WriteTo(json);
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }
}
