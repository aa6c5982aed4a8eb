using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// Object schemas. Declared properties are generated in a fixed order - required ones first, then the
/// optional ones, each of which may be left out - as Ollama and llama.cpp do. Once "properties" are declared,
/// undeclared keys are never generated (as if additionalProperties were false): a model's stray keys are
/// rarely wanted, and it keeps the grammar unambiguous. A schema without "properties" accepts any object,
/// or, with an "additionalProperties" schema, a map whose values follow it (keys are not checked for
/// uniqueness: a grammar cannot do that, and JSON parsers keep the last duplicate).
/// </summary>
internal static class ObjectSchema
{
    public static string Expr(SchemaConverter converter, JsonElement schema, string path, string hint)
    {
        var rules = converter.Rules;
        var ws = rules.Primitive("ws");
        var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);

        if (!schema.TryGetProperty("properties", out var properties))
        {
            if (schema.TryGetProperty("required", out var req) && req.GetArrayLength() > 0)
                throw new SchemaNotSupportedException("required", path, "required properties need a \"properties\" declaration");
            if (!hasAdditional || additional.ValueKind == JsonValueKind.True) return rules.Primitive("object");
            if (additional.ValueKind == JsonValueKind.False) return $"\"{{\" {ws} \"}}\"";
            var value = converter.VisitNamed(additional, path + "/additionalProperties", hint + "-value");
            var entry = rules.Named(hint + "-entry", $"{Key(converter, schema, path, hint)} {ws} \":\" {ws} {value} {ws}");
            var next = rules.Named(hint + "-next", $"\",\" {ws} {entry}");
            return $"\"{{\" {ws} {SchemaConverter.List(rules, hint, entry, next, Bounds(schema, path))} \"}}\"";
        }

        if (schema.TryGetProperty("propertyNames", out _))
            throw new SchemaNotSupportedException("propertyNames", path, "only supported on maps (no \"properties\", an \"additionalProperties\" schema)");
        foreach (var keyword in new[] { "minProperties", "maxProperties" })
        {
            if (schema.TryGetProperty(keyword, out _))
                throw new SchemaNotSupportedException(keyword, path, "only supported on maps (no \"properties\", an \"additionalProperties\" schema)");
        }
        if (properties.ValueKind != JsonValueKind.Object)
            throw new SchemaNotSupportedException("properties", path, "expected an object");
        if (hasAdditional && additional.ValueKind != JsonValueKind.False)
            throw new SchemaNotSupportedException("additionalProperties", path,
                "extra properties next to declared \"properties\" are not supported; omit it or set it to false");

        var required = Required(schema, properties, path);
        var members = new List<(string Rule, bool Required)>();
        foreach (var property in properties.EnumerateObject())
        {
            var propertyPath = $"{path}/properties/{property.Name}";
            var value = converter.VisitNamed(property.Value, propertyPath, $"{hint}-{property.Name}");
            var key = GbnfRules.Literal(SchemaConverter.JsonString(property.Name));
            var rule = rules.Named($"{hint}-{property.Name}-kv", $"{key} {ws} \":\" {ws} {value} {ws}");
            members.Add((rule, required.Contains(property.Name)));
        }
        var ordered = members.Where(m => m.Required).Concat(members.Where(m => !m.Required)).ToList();
        var requiredCount = members.Count(m => m.Required);
        return $"\"{{\" {ws} {Body(rules, ordered, requiredCount, ws, hint)} \"}}\"";
    }

    private static (int Min, int? Max) Bounds(JsonElement schema, string path)
    {
        var min = SchemaConverter.Count(schema, "minProperties", path) ?? 0;
        var max = SchemaConverter.Count(schema, "maxProperties", path);
        if (max < min) throw new SchemaNotSupportedException("maxProperties", path, "maxProperties is below minProperties");
        return (min, max);
    }

    /// <summary>A map's keys: any string, or those allowed by a string-typed "propertyNames" (e.g. to bound their length).</summary>
    private static string Key(SchemaConverter converter, JsonElement schema, string path, string hint)
    {
        if (!schema.TryGetProperty("propertyNames", out var names)) return converter.Rules.Primitive("string");
        if (names.ValueKind != JsonValueKind.Object || !names.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "string")
            throw new SchemaNotSupportedException("propertyNames", path, "must be a schema with \"type\": \"string\"");
        return converter.VisitNamed(names, path + "/propertyNames", hint + "-key");
    }

    private static string Body(GbnfRules rules, List<(string Rule, bool Required)> members, int requiredCount, string ws, string hint)
    {
        if (members.Count == 0) return "";
        if (requiredCount > 0)
        {
            // The first required member carries no comma; every later one (required or not) is prefixed by one.
            var parts = new List<string> { members[0].Rule };
            parts.AddRange(members.Skip(1).Select(m => m.Required ? $"\",\" {ws} {m.Rule}" : $"(\",\" {ws} {m.Rule})?"));
            return string.Join(" ", parts);
        }
        // All optional: whichever member comes first has no comma. tail-i = the optional members after i,
        // chained right to left so the grammar stays linear in the number of properties.
        var tails = new string[members.Count];
        for (var i = members.Count - 1; i >= 0; i--)
        {
            tails[i] = i == members.Count - 1
                ? ""
                : rules.Named($"{hint}-tail-{i}", $"(\",\" {ws} {members[i + 1].Rule})? {tails[i + 1]}".TrimEnd());
        }
        var alternatives = members.Select((m, i) => $"{m.Rule} {tails[i]}".TrimEnd());
        return $"({string.Join(" | ", alternatives)})?";
    }

    private static HashSet<string> Required(JsonElement schema, JsonElement properties, string path)
    {
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (!schema.TryGetProperty("required", out var list)) return required;
        if (list.ValueKind != JsonValueKind.Array)
            throw new SchemaNotSupportedException("required", path, "expected an array of property names");
        foreach (var item in list.EnumerateArray())
        {
            var name = item.GetString() ?? "";
            if (!properties.TryGetProperty(name, out _))
                throw new SchemaNotSupportedException("required", path, $"'{name}' is not declared in \"properties\"");
            required.Add(name);
        }
        return required;
    }
}
