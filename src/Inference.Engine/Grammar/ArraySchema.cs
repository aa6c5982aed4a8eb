using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// Array schemas: prefixItems (or draft-2019 tuple "items": [..]) for the first elements, each present only if the
/// ones before it are, then "items" (or "additionalItems") for the rest; items false allows no more. minItems and
/// maxItems count all of them; every count goes through <see cref="GbnfRepetition"/>. uniqueItems and contains
/// are ignored (a grammar cannot compare items).
/// </summary>
internal static class ArraySchema
{
    public static string Expr(SchemaConverter converter, JsonElement schema, string path, string hint)
    {
        var rules = converter.Rules;
        var ws = rules.Primitive("ws");
        var prefix = new List<JsonElement>();
        JsonElement? rest = null;
        string restPath = path + "/items";
        if (schema.TryGetProperty("prefixItems", out var prefixItems))
        {
            prefix.AddRange(prefixItems.EnumerateArray());
            if (schema.TryGetProperty("items", out var items)) rest = items;
        }
        else if (schema.TryGetProperty("items", out var items))
        {
            if (items.ValueKind == JsonValueKind.Array)
            {
                prefix.AddRange(items.EnumerateArray());
                if (schema.TryGetProperty("additionalItems", out var additional)) (rest, restPath) = (additional, path + "/additionalItems");
            }
            else rest = items;
        }
        var min = SchemaConverter.Count(schema, "minItems", path) ?? 0;
        var max = SchemaConverter.Count(schema, "maxItems", path);
        if (max < min) throw new SchemaNotSupportedException("maxItems", path, "maxItems is below minItems: no array matches");
        bool restAllowed = rest is not { ValueKind: JsonValueKind.False };
        if (!restAllowed && min > prefix.Count)
            throw new SchemaNotSupportedException("minItems", path, "more items are required than the tuple (prefixItems with items false) allows");
        // A false prefix schema allows no array reaching it: the arrays end before it.
        int firstFalse = prefix.FindIndex(p => p.ValueKind == JsonValueKind.False);
        if (firstFalse >= 0)
        {
            if (min > firstFalse) throw new SchemaNotSupportedException("prefixItems", path, $"item {firstFalse} is false but minItems requires it");
            prefix.RemoveRange(firstFalse, prefix.Count - firstFalse);
            max = Math.Min(max ?? firstFalse, firstFalse);
            restAllowed = false;
        }
        string item = rest is { } r && r.ValueKind != JsonValueKind.True ? (restAllowed ? converter.VisitNamed(r, restPath, hint + "-item") : "") : rules.Primitive("value");

        if (prefix.Count == 0)
        {
            if (!restAllowed) max = 0;
            var first = max == 0 ? "" : rules.Named(hint + "-first", $"{item} {ws}");
            var next = max == 0 ? "" : rules.Named(hint + "-next", $"\",\" {ws} {item} {ws}");
            return $"\"[\" {ws} {SchemaConverter.List(rules, hint, first, next, (min, max))} \"]\"".Replace("  ", " ", StringComparison.Ordinal);
        }

        int count = max is { } m && m < prefix.Count ? m : prefix.Count;
        if (count == 0) return $"\"[\" {ws} \"]\""; // maxItems 0 (minItems is 0 then)
        var elements = prefix.Take(count).Select((p, i) => converter.VisitNamed(p, $"{path}/prefixItems/{i}", $"{hint}-{i}")).ToList();
        // After the prefix: the remaining items, each with its comma.
        string tail = "";
        if (count == prefix.Count && restAllowed && max is not 0 && (max is null || max > count))
        {
            var next = rules.Named(hint + "-next", $"\",\" {ws} {item} {ws}");
            tail = GbnfRepetition.Of(rules, next, Math.Max(0, min - count), max - count);
        }
        // Built from the end: element i (i >= 1) with its comma, then the rest, optional once minItems is met.
        for (int i = count - 1; i >= 1; i--)
        {
            var body = $"\",\" {ws} {elements[i]} {ws} {tail}".TrimEnd();
            var rule = rules.Named($"{hint}-from-{i}", body);
            tail = i < min ? rule : rule + "?";
        }
        var list = rules.Named(hint + "-tuple", $"{elements[0]} {ws} {tail}".TrimEnd());
        return $"\"[\" {ws} {(min == 0 ? list + "?" : list)} \"]\"";
    }
}
