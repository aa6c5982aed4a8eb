using System.Text.Json;
using System.Text.Json.Nodes;

namespace Inference.Engine.Grammar;

/// <summary>
/// The conjunction of two schemas as one schema, for allOf and for keywords next to $ref, anyOf or oneOf (whose
/// siblings apply to every branch). A grammar cannot intersect two languages, so the merge works keyword by keyword:
/// types intersect, properties and required unite (a property in both gets both schemas as an allOf), lower bounds
/// take the larger and upper bounds the smaller value, enum/const keep the common values, additionalProperties
/// false wins, items merge, anyOf/oneOf on both sides become the branches' pairwise conjunctions. Approximated:
/// two different patterns or formats keep the first one; any other keyword on both sides keeps the first value.
/// </summary>
internal static class SchemaMerge
{
    /// <summary>anyOf × anyOf beyond this many pairs keeps only the first anyOf (the grammar would grow as the product).</summary>
    public const int MaxBranchPairs = 64;

    private static readonly string[] Lower = ["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"];
    private static readonly string[] Upper = ["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"];
    private static readonly string[] AllTypes = ["object", "array", "string", "number", "integer", "boolean", "null"];

    /// <summary>A schema as a mutable object (true becomes {}).</summary>
    public static JsonObject ToObject(JsonElement schema, string path) => schema.ValueKind switch
    {
        JsonValueKind.True => new JsonObject(),
        JsonValueKind.Object => JsonNode.Parse(schema.GetRawText())!.AsObject(),
        JsonValueKind.False => throw new SchemaNotSupportedException("false", path, "a false schema allows no value, so no document matches"),
        _ => throw new SchemaNotSupportedException("schema", path, "a schema must be an object or a boolean"),
    };

    public static JsonObject Merge(JsonObject a, JsonObject b, string path)
    {
        var result = (JsonObject)a.DeepClone();
        foreach (var (keyword, value) in b)
        {
            if (value is null) continue;
            if (!result.TryGetPropertyValue(keyword, out var existing) || existing is null)
            {
                result[keyword] = value.DeepClone();
                continue;
            }
            switch (keyword)
            {
                case "type":
                    result["type"] = Types(existing, value, path);
                    break;
                case "properties" when existing is JsonObject left && value is JsonObject right:
                    foreach (var (name, schema) in right)
                    {
                        left[name] = left.TryGetPropertyValue(name, out var mine) && mine is not null
                            ? Both(mine, schema!)
                            : schema?.DeepClone();
                    }
                    break;
                case "required" when existing is JsonArray left && value is JsonArray right:
                    foreach (var name in right)
                    {
                        if (!left.Any(n => JsonNode.DeepEquals(n, name))) left.Add(name?.DeepClone());
                    }
                    break;
                case "additionalProperties" or "items":
                    if (existing.GetValueKind() == JsonValueKind.False || value.GetValueKind() == JsonValueKind.True) break; // the first stays
                    result[keyword] = value.GetValueKind() == JsonValueKind.False ? false
                        : existing.GetValueKind() == JsonValueKind.True ? value.DeepClone()
                        : Both(existing, value);
                    break;
                case "prefixItems" when existing is JsonArray left && value is JsonArray right:
                    for (int i = 0; i < right.Count; i++)
                    {
                        if (i < left.Count) left[i] = Both(left[i]!, right[i]!);
                        else left.Add(right[i]?.DeepClone());
                    }
                    break;
                case "enum" or "const":
                    break; // handled below, together
                case "anyOf" or "oneOf" when existing is JsonArray left && value is JsonArray right:
                    if (left.Count * right.Count <= MaxBranchPairs)
                        result[keyword] = new JsonArray(left.SelectMany(l => right.Select(r => (JsonNode)Both(l!, r!))).ToArray());
                    break;
                default:
                    // Bounds: the tighter one; anything else: the first value stays.
                    if (Lower.Contains(keyword) && IsNumber(existing) && IsNumber(value) && Compare(existing, value) < 0)
                        result[keyword] = value.DeepClone();
                    else if (Upper.Contains(keyword) && IsNumber(existing) && IsNumber(value) && Compare(existing, value) > 0)
                        result[keyword] = value.DeepClone();
                    break;
            }
        }
        MergeValues(result, a, b, path);
        return result;
    }

    /// <summary>A schema that is both: an allOf the converter merges when it gets there.</summary>
    private static JsonNode Both(JsonNode left, JsonNode right) => new JsonObject { ["allOf"] = new JsonArray(left.DeepClone(), right.DeepClone()) };

    /// <summary>const and enum of both sides: the values allowed by every one of them, as an enum.</summary>
    private static void MergeValues(JsonObject result, JsonObject a, JsonObject b, string path)
    {
        var lists = new List<List<JsonNode?>>();
        foreach (var side in new[] { a, b })
        {
            if (side.TryGetPropertyValue("const", out var constant)) lists.Add([constant]);
            if (side.TryGetPropertyValue("enum", out var values) && values is JsonArray array) lists.Add(array.ToList());
        }
        if (lists.Count < 2) return;
        var common = lists[0].Where(v => lists.Skip(1).All(l => l.Any(w => JsonNode.DeepEquals(v, w)))).ToList();
        if (common.Count == 0) throw new SchemaNotSupportedException("allOf", path, "no value is allowed by every const/enum it combines");
        result.Remove("const");
        result["enum"] = new JsonArray(common.Select(v => v?.DeepClone()).ToArray());
    }

    private static JsonNode Types(JsonNode left, JsonNode right, string path)
    {
        var l = TypeSet(left);
        var r = TypeSet(right);
        var common = AllTypes.Where(t => (l.Contains(t) && r.Contains(t))
            || (t == "integer" && ((l.Contains("integer") && r.Contains("number")) || (l.Contains("number") && r.Contains("integer"))))).ToList();
        if (common.Count == 0) throw new SchemaNotSupportedException("type", path, "the combined schemas allow no common type");
        return common.Count == 1 ? JsonValue.Create(common[0])! : new JsonArray(common.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
    }

    private static HashSet<string> TypeSet(JsonNode type) => type switch
    {
        JsonValue v when v.TryGetValue<string>(out var name) => [name],
        JsonArray a => a.Select(t => t is JsonValue v && v.TryGetValue<string>(out var n) ? n : "").ToHashSet(),
        _ => [],
    };

    private static bool IsNumber(JsonNode node) => node.GetValueKind() == JsonValueKind.Number;

    private static int Compare(JsonNode left, JsonNode right)
    {
        using var l = JsonDocument.Parse(left.ToJsonString());
        using var r = JsonDocument.Parse(right.ToJsonString());
        return NumericRanges.Scaled(l.RootElement, 40, ceiling: false).CompareTo(NumericRanges.Scaled(r.RootElement, 40, ceiling: false));
    }
}
