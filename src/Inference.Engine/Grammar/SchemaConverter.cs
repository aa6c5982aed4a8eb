using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// Walks one JSON Schema and emits GBNF. Each Visit returns a GBNF expression; sub-schemas used inside a
/// sequence are turned into named rules first, so precedence never depends on what an expression contains.
/// </summary>
internal sealed class SchemaConverter
{
    private readonly JsonElement _root;
    private readonly GbnfRules _rules;
    private readonly Dictionary<string, string> _refRules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _refTargets = new(StringComparer.Ordinal); // rule name -> $ref target
    // $ref targets being converted, innermost last; from _unguardedFrom on, no JSON text has been written since
    // they were entered, so meeting one of them again would be left recursion (a document inside itself at the
    // same position: llama.cpp refuses such grammars, and no finite document matches them).
    private readonly List<string> _refsInProgress = [];
    private int _unguardedFrom;
    private int _depth;

    /// <summary>
    /// Schemas nested deeper than this (counting each $ref followed) are refused: the converter recurses per level,
    /// and a long $ref chain (d0 → d1 → ... in $defs) is not limited by the request's JSON nesting limit.
    /// </summary>
    public const int MaxDepth = 128;

    public SchemaConverter(JsonElement root) : this(root, new GbnfRules())
    {
    }

    /// <summary>A converter adding its rules to <paramref name="rules"/>, shared by several schemas in one grammar.</summary>
    public SchemaConverter(JsonElement root, GbnfRules rules)
    {
        _root = root;
        _rules = rules;
    }

    /// <summary>
    /// The grammar for the schema, checked by <see cref="Checking.GbnfChecker"/>. Problems the schema causes
    /// (a grammar over the size bounds, recursion no finite document satisfies) are a
    /// <see cref="SchemaNotSupportedException"/>; any other refusal is a bug here, a <see cref="Checking.GrammarRejectedException"/>.
    /// </summary>
    public string Convert()
    {
        var grammar = _rules.Render(Visit(_root, "#", "root"));
        var verdict = Checking.GbnfChecker.Check(grammar);
        if (verdict.IsUsable) return grammar;
        if (verdict.IsLimit)
            throw new SchemaNotSupportedException("schema", "#", "its grammar would exceed the size bounds for llama.cpp grammars: " + verdict.Message);
        if (verdict.Problem == Checking.GbnfProblem.DeadEnd)
        {
            var target = verdict.Rules.Select(r => _refTargets.GetValueOrDefault(r)).FirstOrDefault(t => t is not null);
            if (target is not null)
                throw new SchemaNotSupportedException("$ref", target,
                    $"'{target}' is recursive and every document it allows contains itself again: no finite document matches it");
            throw new SchemaNotSupportedException("schema", "#", "no finite document matches it: " + verdict.Message);
        }
        throw new Checking.GrammarRejectedException(verdict);
    }

    /// <summary>Adds the schema's rules to the shared set and returns the name of the rule for its documents.</summary>
    public string ConvertInto(string hint) => VisitNamed(_root, "#", hint);

    public static string AnyObject()
    {
        var rules = new GbnfRules();
        return rules.Render(rules.Primitive("object"));
    }

    private string Visit(JsonElement schema, string path, string hint)
    {
        if (++_depth > MaxDepth)
            throw new SchemaNotSupportedException("schema", path, $"nested more than {MaxDepth} levels deep (counting each $ref followed)");
        try
        {
            return VisitSchema(schema, path, hint);
        }
        finally
        {
            _depth--;
        }
    }

    private string VisitSchema(JsonElement schema, string path, string hint)
    {
        if (schema.ValueKind == JsonValueKind.True) return _rules.Primitive("value");
        if (schema.ValueKind != JsonValueKind.Object)
            throw new SchemaNotSupportedException(schema.ValueKind == JsonValueKind.False ? "false" : "schema", path,
                "a schema must be an object or true");

        SchemaKeywords.Check(schema, path);

        if (schema.TryGetProperty("$ref", out var reference))
        {
            SchemaKeywords.RequireAlone(schema, path, "$ref");
            return RefRule(reference, path);
        }
        foreach (var keyword in new[] { "anyOf", "oneOf" })
        {
            if (!schema.TryGetProperty(keyword, out var options)) continue;
            SchemaKeywords.RequireAlone(schema, path, keyword);
            if (options.ValueKind != JsonValueKind.Array || options.GetArrayLength() == 0)
                throw new SchemaNotSupportedException(keyword, path, "expected a non-empty array of schemas");
            // oneOf is generated like anyOf: exclusivity between branches is not enforced.
            return string.Join(" | ", options.EnumerateArray().Select((option, i) =>
                _rules.Named($"{hint}-{i}", Visit(option, $"{path}/{keyword}/{i}", $"{hint}-{i}"))));
        }

        var types = Types(schema, path);
        if (schema.TryGetProperty("const", out var constant)) return Literals([constant], types, path, "const");
        if (schema.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                throw new SchemaNotSupportedException("enum", path, "expected a non-empty array");
            return Literals(values.EnumerateArray(), types, path, "enum");
        }

        if (types.Count == 1) return TypeExpr(schema, types[0], path, hint);
        return string.Join(" | ", types.Select(t => _rules.Named($"{hint}-{t}", TypeExpr(schema, t, path, hint))));
    }

    /// <summary>The schema's types; without "type" they are inferred from the keywords present, else any value.</summary>
    private static List<string> Types(JsonElement schema, string path)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            if (schema.TryGetProperty("properties", out _) || schema.TryGetProperty("additionalProperties", out _)) return ["object"];
            if (schema.TryGetProperty("items", out _)) return ["array"];
            return ["any"];
        }
        var names = type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array when type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String)
                => type.EnumerateArray().Select(t => t.GetString()!).Distinct().ToList(),
            _ => throw new SchemaNotSupportedException("type", path, "expected a type name or a non-empty array of them"),
        };
        foreach (var name in names)
        {
            if (name is not ("object" or "array" or "string" or "number" or "integer" or "boolean" or "null"))
                throw new SchemaNotSupportedException("type", path, $"unknown type '{name}'");
        }
        return names;
    }

    private string TypeExpr(JsonElement schema, string type, string path, string hint) => type switch
    {
        "object" => AfterText(() => ObjectSchema.Expr(this, schema, path, hint)),
        "array" => AfterText(() => ArrayExpr(schema, path, hint)),
        "string" => StringExpr(schema, path),
        "integer" => IntegerExpr(schema, path),
        "number" => NumberExpr(schema, path),
        "boolean" => _rules.Primitive("boolean"),
        "null" => _rules.Primitive("null"),
        _ => _rules.Primitive("value"),
    };

    internal GbnfRules Rules => _rules;

    /// <summary>
    /// Converts the inside of an object or array, which always starts with text ("{" or "["): a $ref met again
    /// in there is recursion after some text, which the grammar expresses without left recursion.
    /// </summary>
    private string AfterText(Func<string> convert)
    {
        int saved = _unguardedFrom;
        _unguardedFrom = _refsInProgress.Count;
        try
        {
            return convert();
        }
        finally
        {
            _unguardedFrom = saved;
        }
    }

    internal string VisitNamed(JsonElement schema, string path, string hint) => _rules.Named(hint, Visit(schema, path, hint));

    private string ArrayExpr(JsonElement schema, string path, string hint)
    {
        var ws = _rules.Primitive("ws");
        string item;
        if (schema.TryGetProperty("items", out var items))
        {
            if (items.ValueKind == JsonValueKind.Array)
                throw new SchemaNotSupportedException("items", path, "tuple-form items (an array of schemas) is not supported");
            item = VisitNamed(items, path + "/items", hint + "-item");
        }
        else
        {
            item = _rules.Primitive("value");
        }
        var min = Count(schema, "minItems", path) ?? 0;
        var max = Count(schema, "maxItems", path);
        if (max < min) throw new SchemaNotSupportedException("maxItems", path, "maxItems is below minItems");
        var first = _rules.Named(hint + "-first", $"{item} {ws}");
        var next = _rules.Named(hint + "-next", $"\",\" {ws} {item} {ws}");
        return $"\"[\" {ws} {List(_rules, hint, first, next, (min, max))} \"]\"";
    }

    private string StringExpr(JsonElement schema, string path)
    {
        var min = Count(schema, "minLength", path);
        var max = Count(schema, "maxLength", path);
        if (schema.TryGetProperty("format", out var format) && format.GetString() is "date" or "time" or "date-time" or "uuid")
        {
            if (min is not null || max is not null)
                throw new SchemaNotSupportedException("format", path, "minLength/maxLength together with a format");
            return _rules.Primitive(format.GetString()!);
        }
        // Any other format is an annotation (the JSON Schema default) and is ignored.
        if (min is null && max is null) return _rules.Primitive("string");
        if (max < min) throw new SchemaNotSupportedException("maxLength", path, "maxLength is below minLength");
        if (max == 0) return GbnfRules.Literal("\"\"");
        // Named by its bounds, so every string with the same bounds shares one rule (and its expansion).
        var chars = GbnfRepetition.Of(_rules, _rules.Primitive("char"), min ?? 0, max);
        return _rules.Named($"string-{min ?? 0}-{(max is { } m ? m.ToString(CultureInfo.InvariantCulture) : "up")}", $"\"\\\"\" {chars} \"\\\"\"");
    }

    private string IntegerExpr(JsonElement schema, string path)
    {
        if (!schema.TryGetProperty("minimum", out var minimum)) return _rules.Primitive("integer");
        // Only the sign can be restricted: minimum 0 (non-negative) or 1 (positive).
        if (minimum.ValueKind == JsonValueKind.Number && minimum.TryGetDecimal(out var m) && m is 0 or 1)
            return _rules.Primitive(m == 0 ? "natural" : "positive");
        throw new SchemaNotSupportedException("minimum", path, "only minimum 0 or 1 is supported, on integers");
    }

    private string NumberExpr(JsonElement schema, string path)
    {
        if (schema.TryGetProperty("minimum", out _))
            throw new SchemaNotSupportedException("minimum", path, "numeric ranges are only supported as minimum 0 or 1 on integers");
        return _rules.Primitive("number");
    }

    /// <summary>enum/const: each value's exact compact JSON text, keeping only values of the declared type(s).</summary>
    private string Literals(IEnumerable<JsonElement> values, List<string> types, string path, string keyword)
    {
        var kept = values.Where(v => types.Contains("any") || types.Any(t => SchemaKeywords.IsOfType(v, t))).ToList();
        if (kept.Count == 0) throw new SchemaNotSupportedException(keyword, path, "no value matches the declared type");
        return string.Join(" | ", kept.Select(v => GbnfRules.Literal(CompactJson(v))).Distinct());
    }

    internal static string CompactJson(JsonElement value) => Write(value.WriteTo);

    internal static string JsonString(string text) => Write(w => w.WriteStringValue(text));

    private static string Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        // Relaxed escaping keeps non-ASCII text as itself, the way a model would naturally write it.
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private string RefRule(JsonElement reference, string path)
    {
        var target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : "";
        if (_refsInProgress.IndexOf(target, _unguardedFrom) >= 0)
            throw new SchemaNotSupportedException("$ref", path,
                $"'{target}' refers back to itself before any JSON text is written (a document would have to contain itself at the same position); recursion is supported through objects and arrays");
        if (_refRules.TryGetValue(target, out var existing)) return existing;
        if (target != "#" && !target.StartsWith("#/", StringComparison.Ordinal))
            throw new SchemaNotSupportedException("$ref", path, $"only local references (#/...) are supported, got '{target}'");

        var node = _root;
        foreach (var raw in target.Length > 1 ? target[2..].Split('/') : [])
        {
            var segment = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(segment, out var child)) node = child;
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(segment, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < node.GetArrayLength()) node = node[i];
            else throw new SchemaNotSupportedException("$ref", path, $"'{target}' does not resolve");
        }
        // Name the rule before visiting its body, so a recursive reference finds it.
        var name = _rules.Reserve(target == "#" ? "root-ref" : "ref-" + target[(target.LastIndexOf('/') + 1)..]);
        _refRules[target] = name;
        _refTargets[name] = target;
        _refsInProgress.Add(target);
        try
        {
            _rules.Define(name, Visit(node, target, name));
        }
        finally
        {
            _refsInProgress.RemoveAt(_refsInProgress.Count - 1);
        }
        return name;
    }

    /// <summary>
    /// min..max (null = unbounded) comma-separated elements: <paramref name="first"/>, then <paramref name="next"/>
    /// (which carries the comma) repeated; both are rule names. Every count goes through <see cref="GbnfRepetition"/>.
    /// </summary>
    internal static string List(GbnfRules rules, string hint, string first, string next, (int Min, int? Max) bounds)
    {
        var (min, max) = bounds;
        if (max == 0) return "";
        var rest = GbnfRepetition.Of(rules, next, Math.Max(0, min - 1), max - 1);
        var list = rest.Length == 0 ? first : $"{first} {rest}";
        // Optional as a whole: named first, since llama.cpp refuses '?' on a group that generated 2000 rules.
        return min == 0 ? rules.Named(hint + "-list", list) + "?" : list;
    }

    /// <summary>A count keyword: a non-negative integer (1.0 counts as 1) up to 2147483647.</summary>
    internal static int? Count(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && d >= 0 && d <= int.MaxValue && Math.Floor(d) == d) return (int)d;
        throw new SchemaNotSupportedException(keyword, path, "expected a non-negative integer up to 2147483647");
    }
}
