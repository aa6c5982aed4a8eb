using System.Text;
using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// Object schemas. Declared properties are generated in a fixed order - required ones first, then the
/// optional ones, each of which may be left out - as Ollama and llama.cpp do. Without "additionalProperties"
/// (or with false), undeclared keys are never generated: a model's stray keys are rarely wanted, and it keeps
/// the grammar unambiguous. With true or a schema, extra members may follow the declared ones, with keys that
/// are not a declared name (as llama.cpp's <c>_not_strings</c> builds them). A schema without "properties"
/// accepts any object, or, with an "additionalProperties" schema, a map whose values follow it (keys are not
/// checked for uniqueness: a grammar cannot do that, and JSON parsers keep the last duplicate); there
/// propertyNames and minProperties/maxProperties are enforced. A required name that is not declared is generated
/// like a declared one, with the additionalProperties schema (or any value).
/// </summary>
internal static class ObjectSchema
{
    private static readonly JsonElement AnyValue = JsonDocument.Parse("true").RootElement.Clone();

    public static string Expr(SchemaConverter converter, JsonElement schema, string path, string hint)
    {
        var rules = converter.Rules;
        var ws = rules.Primitive("ws");
        var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
        var hasProperties = schema.TryGetProperty("properties", out var properties);
        var required = schema.TryGetProperty("required", out var list)
            ? list.EnumerateArray().Select(r => r.GetString()!).Distinct().ToList()
            : [];

        if (!hasProperties && required.Count == 0)
        {
            if (!hasAdditional || additional.ValueKind == JsonValueKind.True)
            {
                if (!schema.TryGetProperty("propertyNames", out _) && !schema.TryGetProperty("minProperties", out _) && !schema.TryGetProperty("maxProperties", out _))
                    return rules.Primitive("object");
                additional = AnyValue;
            }
            var (min, max) = Bounds(schema, path);
            if (additional.ValueKind == JsonValueKind.False)
            {
                if (min > 0) throw new SchemaNotSupportedException("minProperties", path, "additionalProperties is false, so no property may be present");
                return $"\"{{\" {ws} \"}}\"";
            }
            var value = converter.VisitNamed(additional, path + "/additionalProperties", hint + "-value");
            var entry = rules.Named(hint + "-entry", $"{Key(converter, schema, path, hint)} {ws} \":\" {ws} {value} {ws}");
            var next = rules.Named(hint + "-next", $"\",\" {ws} {entry}");
            return $"\"{{\" {ws} {SchemaConverter.List(rules, hint, entry, next, (min, max))} \"}}\"";
        }

        // Declared properties (and required names that are not declared), in their order.
        var declared = new List<(string Name, JsonElement Schema, string Path)>();
        if (hasProperties)
        {
            foreach (var property in properties.EnumerateObject())
            {
                // A false schema forbids the property: an optional one is never generated, a required one is a 400 below.
                if (property.Value.ValueKind == JsonValueKind.False && !required.Contains(property.Name)) continue;
                declared.Add((property.Name, property.Value, $"{path}/properties/{property.Name}"));
            }
        }
        foreach (var name in required.Where(n => !declared.Any(d => d.Name == n)))
        {
            if (hasAdditional && additional.ValueKind == JsonValueKind.False)
                throw new SchemaNotSupportedException("required", path, $"'{name}' is required but not declared, and additionalProperties is false: no object matches");
            declared.Add((name, hasAdditional ? additional : AnyValue, $"{path}/additionalProperties"));
        }

        var members = new List<(string Rule, bool Required)>();
        foreach (var (name, propertySchema, propertyPath) in declared)
        {
            var value = converter.VisitNamed(propertySchema, propertyPath, $"{hint}-{name}");
            var key = GbnfRules.Literal(SchemaConverter.JsonString(name));
            var rule = rules.Named($"{hint}-{name}-kv", $"{key} {ws} \":\" {ws} {value} {ws}");
            members.Add((rule, required.Contains(name)));
        }
        string? extra = null;
        if (hasAdditional && additional.ValueKind != JsonValueKind.False)
        {
            var value = additional.ValueKind == JsonValueKind.True ? rules.Primitive("value")
                : converter.VisitNamed(additional, path + "/additionalProperties", hint + "-additional-value");
            var key = NotNames(rules, properties.ValueKind == JsonValueKind.Object
                ? properties.EnumerateObject().Select(p => p.Name).Concat(declared.Select(d => d.Name))
                : declared.Select(d => d.Name), hint + "-additional-key");
            extra = rules.Named(hint + "-additional-kv", $"{key} {ws} \":\" {ws} {value} {ws}");
        }
        var ordered = members.Where(m => m.Required).Concat(members.Where(m => !m.Required)).ToList();
        var requiredCount = members.Count(m => m.Required);
        return $"\"{{\" {ws} {Body(rules, ordered, requiredCount, extra, ws, hint)} \"}}\"".Replace("  ", " ", StringComparison.Ordinal);
    }

    private static (int Min, int? Max) Bounds(JsonElement schema, string path)
    {
        var min = SchemaConverter.Count(schema, "minProperties", path) ?? 0;
        var max = SchemaConverter.Count(schema, "maxProperties", path);
        if (max < min) throw new SchemaNotSupportedException("maxProperties", path, "maxProperties is below minProperties: no object matches");
        return (min, max);
    }

    /// <summary>A map's keys: any string, or those allowed by "propertyNames" (a schema for strings, e.g. to bound their length).</summary>
    private static string Key(SchemaConverter converter, JsonElement schema, string path, string hint)
    {
        if (!schema.TryGetProperty("propertyNames", out var names) || names.ValueKind == JsonValueKind.True) return converter.Rules.Primitive("string");
        // Keys are strings: the schema is applied as a string schema.
        var asString = SchemaMerge.Merge(SchemaMerge.ToObject(names, path + "/propertyNames"), new() { ["type"] = "string" }, path + "/propertyNames");
        using var document = JsonDocument.Parse(asString.ToJsonString());
        return converter.VisitNamed(document.RootElement.Clone(), path + "/propertyNames", hint + "-key");
    }

    /// <summary>
    /// Members: every required one, then the optional ones in order, each may be left out, then any number of
    /// extra members (when <paramref name="extra"/> is given). The first member present carries no comma.
    /// </summary>
    private static string Body(GbnfRules rules, List<(string Rule, bool Required)> members, int requiredCount, string? extra, string ws, string hint)
    {
        var extras = extra is null ? "" : $"(\",\" {ws} {extra})*";
        if (members.Count == 0) return extra is null ? "" : $"({extra} {extras})?";
        if (requiredCount > 0)
        {
            // The first required member carries no comma; every later one (required or not) is prefixed by one.
            var parts = new List<string> { members[0].Rule };
            parts.AddRange(members.Skip(1).Select(m => m.Required ? $"\",\" {ws} {m.Rule}" : $"(\",\" {ws} {m.Rule})?"));
            if (extras.Length > 0) parts.Add(extras);
            return string.Join(" ", parts);
        }
        // All optional: whichever member comes first has no comma. tail-i = the optional members after i (and the
        // extras), chained right to left so the grammar stays linear in the number of properties.
        var tails = new string[members.Count];
        for (var i = members.Count - 1; i >= 0; i--)
        {
            tails[i] = i == members.Count - 1
                ? extras
                : rules.Named($"{hint}-tail-{i}", $"(\",\" {ws} {members[i + 1].Rule})? {tails[i + 1]}".TrimEnd());
        }
        var alternatives = members.Select((m, i) => $"{m.Rule} {tails[i]}".TrimEnd()).ToList();
        if (extra is not null) alternatives.Add($"{extra} {extras}");
        return $"({string.Join(" | ", alternatives)})?";
    }

    /// <summary>
    /// A JSON string that is none of <paramref name="names"/>, written without escapes (key-char), so its text is
    /// its value: a trie of the names, where each step either leaves the trie (any other character, then anything)
    /// or follows it, and ending exactly on a name is not allowed. Names that cannot be written without escapes
    /// need no exclusion. One rule per trie node keeps the grammar flat however long the names are.
    /// </summary>
    private static string NotNames(GbnfRules rules, IEnumerable<string> names, string hint)
    {
        var keyChar = rules.Primitive("key-char");
        var root = new TrieNode();
        foreach (var name in names.Where(n => n.All(c => c >= 0x20 && c != '"' && c != '\\' && c != 0x7F)))
        {
            var node = root;
            foreach (var rune in name.EnumerateRunes()) node = node.Child(rune.Value);
            node.End = true;
        }
        var body = root.Children.Count == 0 ? $"{keyChar}*" : NodeRule(rules, root, keyChar, hint);
        return rules.Named(hint, $"\"\\\"\" {(root.End || root.Children.Count == 0 ? body : body + "?")} \"\\\"\"");
    }

    /// <summary>The rest of a key after reaching <paramref name="node"/>: at least one more character, not ending on a name.</summary>
    private static string NodeRule(GbnfRules rules, TrieNode node, string keyChar, string hint)
    {
        var alternatives = new List<string>();
        foreach (var (c, child) in node.Children)
        {
            if (child.Children.Count > 0)
            {
                var rest = NodeRule(rules, child, keyChar, hint);
                alternatives.Add($"[{GbnfRules.ClassChar(c)}] {(child.End ? rest : rest + "?")}");
            }
            else
            {
                alternatives.Add($"[{GbnfRules.ClassChar(c)}] {(child.End ? keyChar + "+" : keyChar + "*")}");
            }
        }
        var others = new StringBuilder("[^\"\\\\\\x7F\\x00-\\x1F");
        foreach (var c in node.Children.Keys) others.Append(GbnfRules.ClassChar(c));
        alternatives.Add($"{others}] {keyChar}*");
        return rules.Named(hint + "-rest", string.Join(" | ", alternatives));
    }

    private sealed class TrieNode
    {
        public SortedDictionary<int, TrieNode> Children { get; } = [];

        public bool End { get; set; }

        public TrieNode Child(int c)
        {
            if (!Children.TryGetValue(c, out var child)) Children[c] = child = new TrieNode();
            return child;
        }
    }
}
