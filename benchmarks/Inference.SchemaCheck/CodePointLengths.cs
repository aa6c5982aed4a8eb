using System.Text.Json;
using System.Text.Json.Nodes;

namespace Inference.SchemaCheck;

/// <summary>
/// JSON Schema counts a string's length in code points (RFC 8259 characters); JsonSchema.Net 8 counts grapheme
/// clusters, so "e" plus three combining accents passes maxLength 1 and "}Äം" (three code points) fails minLength 3.
/// Random-weight models write such strings often. Before building, every minLength/maxLength is moved into an
/// equivalent code-point pattern inside allOf, which JsonSchema.Net evaluates exactly; nothing else changes.
/// </summary>
public static class CodePointLengths
{
    // Keywords whose value is a schema, an array of schemas, or a map from names to schemas (every draft).
    private static readonly HashSet<string> Schema =
        ["items", "additionalItems", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else",
         "unevaluatedItems", "unevaluatedProperties", "contentSchema"];
    private static readonly HashSet<string> SchemaArrays = ["allOf", "anyOf", "oneOf", "prefixItems", "items"];
    private static readonly HashSet<string> SchemaMaps =
        ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"];

    public static JsonNode? Rewrite(JsonElement schema)
    {
        var node = JsonNode.Parse(schema.GetRawText());
        Visit(node);
        return node;
    }

    private static void Visit(JsonNode? node)
    {
        if (node is not JsonObject schema) return;
        foreach (var (key, value) in schema.ToList())
        {
            if (Schema.Contains(key) && value is JsonObject) Visit(value);
            else if (SchemaArrays.Contains(key) && value is JsonArray array) foreach (var item in array) Visit(item);
            else if (SchemaMaps.Contains(key) && value is JsonObject map) foreach (var (_, sub) in map) Visit(sub);
        }
        var min = Count(schema, "minLength");
        var max = Count(schema, "maxLength");
        if (min is null && max is null) return;
        if (min is not null) schema.Remove("minLength");
        if (max is not null) schema.Remove("maxLength");
        // One code point: a surrogate pair or any other UTF-16 unit (System.Text.Json refuses lone surrogates).
        var pattern = $"^(?:[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]|[^\\uD800-\\uDFFF]){{{min ?? 0},{max?.ToString() ?? ""}}}$";
        if (schema["allOf"] is not JsonArray allOf) schema["allOf"] = allOf = [];
        allOf.Add(new JsonObject { ["pattern"] = pattern });
    }

    private static long? Count(JsonObject schema, string keyword) =>
        schema[keyword] is JsonValue v && v.TryGetValue<double>(out var d) && d >= 0 && d == Math.Floor(d) && d <= int.MaxValue ? (long)d : null;
}
