using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// Which keywords the converter understands. Anything else that constrains values is rejected, because
/// dropping it would let the grammar produce documents the schema forbids.
/// </summary>
internal static class SchemaKeywords
{
    /// <summary>Keywords that never constrain a value (or are handled elsewhere, like $defs) and are skipped.</summary>
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated",
        "readOnly", "writeOnly", "$defs", "definitions", "contentMediaType", "contentEncoding",
    };

    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "enum", "const", "minLength", "maxLength", "format", "anyOf", "oneOf", "$ref", "minimum", "uniqueItems",
        "propertyNames", "minProperties", "maxProperties",
    };

    public static void Check(JsonElement schema, string path)
    {
        foreach (var keyword in schema.EnumerateObject())
        {
            if (Annotations.Contains(keyword.Name)) continue;
            if (!Supported.Contains(keyword.Name))
                throw new SchemaNotSupportedException(keyword.Name, path, "the grammar cannot enforce this keyword");
            if (keyword.Name == "uniqueItems" && keyword.Value.ValueKind == JsonValueKind.True)
                throw new SchemaNotSupportedException("uniqueItems", path, "a grammar cannot enforce unique array items");
        }
    }

    /// <summary>$ref, anyOf and oneOf must stand alone (next to annotations): merging siblings into every branch is not supported.</summary>
    public static void RequireAlone(JsonElement schema, string path, string keyword)
    {
        foreach (var other in schema.EnumerateObject())
        {
            if (other.Name != keyword && !Annotations.Contains(other.Name))
                throw new SchemaNotSupportedException(other.Name, path, $"cannot be combined with '{keyword}'");
        }
    }

    public static bool IsOfType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && IsInteger(value),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => false,
    };

    /// <summary>JSON Schema counts 1.0 as an integer.</summary>
    public static bool IsInteger(JsonElement value) =>
        value.TryGetInt64(out _) || (value.TryGetDouble(out var d) && Math.Floor(d) == d && !double.IsInfinity(d));
}
