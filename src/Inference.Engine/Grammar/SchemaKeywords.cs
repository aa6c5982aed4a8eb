using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// The shapes of the keywords the converter reads. A schema with a malformed one (minLength -1, "required" that is
/// not an array of strings, "type": "strnig") is not a valid JSON Schema and is refused. Every other keyword -
/// annotations, and constraints a grammar cannot enforce (multipleOf, uniqueItems, not, if/then/else, contains,
/// dependentRequired, patternProperties, unevaluated*...) - is accepted and ignored, as llama.cpp does.
/// </summary>
internal static class SchemaKeywords
{
    /// <summary>Keywords that never constrain a value (and ones handled elsewhere, like $defs); siblings of $ref/anyOf that need no merging.</summary>
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated",
        "readOnly", "writeOnly", "$defs", "definitions", "contentMediaType", "contentEncoding", "$anchor",
        "$dynamicAnchor", "$vocabulary", "discriminator", "xml", "externalDocs", "example",
    };

    private static readonly string[] Counts = ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"];
    private static readonly string[] Numbers = ["minimum", "maximum", "multipleOf"];
    private static readonly string[] SchemaLists = ["allOf", "anyOf", "oneOf", "prefixItems"];
    private static readonly string[] SchemaMaps = ["properties", "$defs", "definitions", "patternProperties", "dependentSchemas"];
    private static readonly string[] SingleSchemas = ["additionalProperties", "propertyNames", "not", "if", "then", "else", "contains", "additionalItems"];

    public static void Check(JsonElement schema, string path)
    {
        foreach (var keyword in schema.EnumerateObject())
        {
            var value = keyword.Value;
            var name = keyword.Name;
            bool ok = name switch
            {
                _ when Counts.Contains(name) => IsCount(value),
                _ when Numbers.Contains(name) => value.ValueKind == JsonValueKind.Number && (name != "multipleOf" || value.GetDouble() > 0),
                // A number (2019+), or a boolean modifying minimum/maximum (draft 4).
                "exclusiveMinimum" or "exclusiveMaximum" => value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False,
                "required" => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String),
                "enum" => value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0,
                "pattern" or "format" or "$ref" => value.ValueKind == JsonValueKind.String,
                "nullable" or "uniqueItems" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                "items" => IsSchema(value) || (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(IsSchema)),
                _ when SchemaLists.Contains(name) => value.ValueKind == JsonValueKind.Array && (name == "prefixItems" || value.GetArrayLength() > 0)
                    && value.EnumerateArray().All(IsSchema),
                _ when SchemaMaps.Contains(name) => value.ValueKind == JsonValueKind.Object && value.EnumerateObject().All(p => IsSchema(p.Value)),
                _ when SingleSchemas.Contains(name) => IsSchema(value),
                _ => true,
            };
            if (!ok) throw new SchemaNotSupportedException(name, path, "not valid JSON Schema: " + Expected(name));
        }
    }

    private static string Expected(string keyword) => keyword switch
    {
        _ when Counts.Contains(keyword) => "expected a non-negative integer up to 2147483647",
        "multipleOf" => "expected a number above 0",
        _ when Numbers.Contains(keyword) => "expected a number",
        "exclusiveMinimum" or "exclusiveMaximum" => "expected a number (or, in draft 4, a boolean)",
        "required" => "expected an array of property names",
        "enum" => "expected a non-empty array",
        "pattern" or "format" or "$ref" => "expected a string",
        "nullable" or "uniqueItems" => "expected a boolean",
        "items" => "expected a schema (or an array of schemas)",
        "prefixItems" => "expected an array of schemas",
        _ when SchemaLists.Contains(keyword) => "expected a non-empty array of schemas",
        _ when SchemaMaps.Contains(keyword) => "expected an object whose values are schemas",
        _ => "expected a schema",
    };

    private static bool IsSchema(JsonElement value) => value.ValueKind is JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False;

    private static bool IsCount(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && d >= 0 && d <= int.MaxValue && Math.Floor(d) == d;

    /// <summary>Whether the schema has keywords besides <paramref name="keyword"/> that constrain values (and so must be merged in).</summary>
    public static bool HasConstrainingSiblings(JsonElement schema, string keyword) =>
        schema.EnumerateObject().Any(p => p.Name != keyword && !Annotations.Contains(p.Name));

    /// <summary>The schema without <paramref name="keywords"/> and annotations.</summary>
    public static System.Text.Json.Nodes.JsonObject Siblings(JsonElement schema, params string[] keywords)
    {
        var result = new System.Text.Json.Nodes.JsonObject();
        foreach (var p in schema.EnumerateObject())
        {
            if (!keywords.Contains(p.Name) && !Annotations.Contains(p.Name))
                result[p.Name] = System.Text.Json.Nodes.JsonNode.Parse(p.Value.GetRawText());
        }
        return result;
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
