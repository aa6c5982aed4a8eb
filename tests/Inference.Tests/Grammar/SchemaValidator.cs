using System.Text.Json;
using System.Text.RegularExpressions;

namespace Inference.Tests.Grammar;

/// <summary>
/// An independent JSON Schema check for the subset JsonGrammar supports, written from the schema semantics
/// (not from the grammar), so generated documents are judged by what the schema means.
/// Returns null when valid, else the first violation with its location.
/// </summary>
public sealed partial class SchemaValidator(JsonElement root)
{
    public string? Validate(JsonElement value) => Check(root, value, "$");

    private string? Check(JsonElement schema, JsonElement value, string at)
    {
        if (schema.ValueKind == JsonValueKind.True) return null;
        if (schema.TryGetProperty("$ref", out var reference)) return Check(Resolve(reference.GetString()!), value, at);
        if (schema.TryGetProperty("anyOf", out var anyOf))
            return anyOf.EnumerateArray().Any(s => Check(s, value, at) is null) ? null : $"{at}: matches no anyOf branch";
        if (schema.TryGetProperty("oneOf", out var oneOf))
            return oneOf.EnumerateArray().Count(s => Check(s, value, at) is null) == 1 ? null : $"{at}: does not match exactly one oneOf branch";
        if (schema.TryGetProperty("const", out var constant) && !JsonEquals(constant, value)) return $"{at}: not the const";
        if (schema.TryGetProperty("enum", out var values) && !values.EnumerateArray().Any(v => JsonEquals(v, value))) return $"{at}: not in enum";
        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!types.Any(t => IsOfType(value, t))) return $"{at}: not of type {string.Join("/", types)}";
        }
        return value.ValueKind switch
        {
            JsonValueKind.Object => CheckObject(schema, value, at),
            JsonValueKind.Array => CheckArray(schema, value, at),
            JsonValueKind.String => CheckString(schema, value.GetString()!, at),
            JsonValueKind.Number when schema.TryGetProperty("minimum", out var min) && value.GetDouble() < min.GetDouble() => $"{at}: below minimum",
            _ => null,
        };
    }

    private string? CheckObject(JsonElement schema, JsonElement value, string at)
    {
        var hasProperties = schema.TryGetProperty("properties", out var properties);
        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(n => n.GetString()!))
                if (!value.TryGetProperty(name, out _)) return $"{at}: missing required '{name}'";
        }
        var count = value.EnumerateObject().Count();
        if (schema.TryGetProperty("minProperties", out var min) && count < min.GetInt32()) return $"{at}: fewer than minProperties";
        if (schema.TryGetProperty("maxProperties", out var max) && count > max.GetInt32()) return $"{at}: more than maxProperties";
        var names = new HashSet<string>();
        foreach (var property in value.EnumerateObject())
        {
            // Declared properties must not repeat (the grammar emits each once); map keys may (see ObjectSchema).
            if (!names.Add(property.Name) && hasProperties) return $"{at}: duplicate key '{property.Name}'";
            var path = $"{at}.{property.Name}";
            if (schema.TryGetProperty("propertyNames", out var keys) && Check(keys, JsonDocument.Parse(JsonSerializer.Serialize(property.Name)).RootElement, path) is { } keyError)
                return keyError;
            if (hasProperties && properties.TryGetProperty(property.Name, out var sub))
            {
                if (Check(sub, property.Value, path) is { } error) return error;
            }
            else if (schema.TryGetProperty("additionalProperties", out var additional))
            {
                if (additional.ValueKind == JsonValueKind.False) return $"{path}: additional property not allowed";
                if (Check(additional, property.Value, path) is { } error) return error;
            }
        }
        return null;
    }

    private string? CheckArray(JsonElement schema, JsonElement value, string at)
    {
        var count = value.GetArrayLength();
        if (schema.TryGetProperty("minItems", out var min) && count < min.GetInt32()) return $"{at}: fewer than minItems";
        if (schema.TryGetProperty("maxItems", out var max) && count > max.GetInt32()) return $"{at}: more than maxItems";
        if (!schema.TryGetProperty("items", out var items)) return null;
        var i = 0;
        foreach (var item in value.EnumerateArray())
            if (Check(items, item, $"{at}[{i++}]") is { } error) return error;
        return null;
    }

    private static string? CheckString(JsonElement schema, string text, string at)
    {
        // JSON Schema lengths count code points, not UTF-16 units.
        var length = text.EnumerateRunes().Count();
        if (schema.TryGetProperty("minLength", out var min) && length < min.GetInt32()) return $"{at}: shorter than minLength";
        if (schema.TryGetProperty("maxLength", out var max) && length > max.GetInt32()) return $"{at}: longer than maxLength";
        if (!schema.TryGetProperty("format", out var format)) return null;
        var regex = format.GetString() switch
        {
            "date" => DateRegex(),
            "date-time" => DateTimeRegex(),
            "uuid" => UuidRegex(),
            _ => null,
        };
        return regex is null || regex.IsMatch(text) ? null : $"{at}: not a {format.GetString()}";
    }

    private JsonElement Resolve(string pointer)
    {
        var node = root;
        if (pointer == "#") return node;
        foreach (var segment in pointer[2..].Split('/')) node = node.GetProperty(segment.Replace("~1", "/").Replace("~0", "~"));
        return node;
    }

    private static bool IsOfType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && decimal.Truncate(d) == d,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => throw new ArgumentException($"unknown type {type}"),
    };

    private static bool JsonEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind == JsonValueKind.Number && b.ValueKind == JsonValueKind.Number)
            return a.TryGetDecimal(out var x) && b.TryGetDecimal(out var y) ? x == y : a.GetDouble() == b.GetDouble();
        return JsonElement.DeepEquals(a, b);
    }

    [GeneratedRegex(@"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    private static partial Regex DateRegex();

    [GeneratedRegex(@"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,3})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")]
    private static partial Regex DateTimeRegex();

    [GeneratedRegex(@"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    private static partial Regex UuidRegex();
}
