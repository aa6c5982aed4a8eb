using System.Globalization;
using System.Text.Encodings.Web;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

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
                schema.ValueKind == JsonValueKind.False ? "a false schema allows no value, so no document matches" : "a schema must be an object or a boolean");

        SchemaKeywords.Check(schema, path);

        bool hasRef = schema.TryGetProperty("$ref", out var reference);
        // allOf, and $ref with constraining siblings (JSON Schema 2020-12 applies both), become one merged schema.
        if (schema.TryGetProperty("allOf", out _) || (hasRef && SchemaKeywords.HasConstrainingSiblings(schema, "$ref")))
            return VisitMerged(schema, path, hint);
        if (hasRef) return RefRule(reference, path);
        foreach (var keyword in new[] { "anyOf", "oneOf" })
        {
            if (schema.TryGetProperty(keyword, out var options)) return Union(schema, keyword, options, path, hint);
        }

        var types = Types(schema, path);
        if (schema.TryGetProperty("const", out var constant)) return Literals([constant], types, path, "const");
        if (schema.TryGetProperty("enum", out var values)) return Literals(values.EnumerateArray(), types, path, "enum");

        if (types.Count == 1) return TypeExpr(schema, types[0], path, hint);
        return string.Join(" | ", types.Select(t => _rules.Named($"{hint}-{t}", TypeExpr(schema, t, path, hint))));
    }

    /// <summary>
    /// anyOf/oneOf: one alternative per branch (oneOf exclusivity is not enforced). Keywords next to it apply to
    /// every branch, so they are merged into each; a branch that contradicts them (a null branch next to
    /// "type": "string") allows nothing and is left out.
    /// </summary>
    private string Union(JsonElement schema, string keyword, JsonElement options, string path, string hint)
    {
        var siblings = SchemaKeywords.HasConstrainingSiblings(schema, keyword) ? SchemaKeywords.Siblings(schema, keyword) : null;
        var alternatives = new List<string>();
        SchemaNotSupportedException? contradiction = null;
        int i = 0;
        foreach (var option in options.EnumerateArray())
        {
            var branchPath = $"{path}/{keyword}/{i}";
            var branchHint = $"{hint}-{i++}";
            if (option.ValueKind == JsonValueKind.False) continue;
            var branch = option;
            if (siblings is not null)
            {
                try
                {
                    branch = Element(SchemaMerge.Merge(siblings, SchemaMerge.ToObject(option, branchPath), branchPath));
                }
                catch (SchemaNotSupportedException ex)
                {
                    contradiction ??= ex;
                    continue;
                }
            }
            alternatives.Add(_rules.Named(branchHint, Visit(branch, branchPath, branchHint)));
        }
        if (alternatives.Count == 0)
            throw contradiction ?? new SchemaNotSupportedException(keyword, path, "every branch is false: no document matches");
        return string.Join(" | ", alternatives.Distinct());
    }

    /// <summary>
    /// A schema with allOf or a $ref with siblings, merged (see <see cref="SchemaMerge"/>) and converted as one. The
    /// $ref targets inlined by the merge count as being converted, so a reference back to one of them before any
    /// text is left recursion and one after text becomes its ordinary rule.
    /// </summary>
    private string VisitMerged(JsonElement schema, string path, string hint)
    {
        var expanded = new List<string>();
        var merged = Flatten(schema, path, expanded);
        int mark = _refsInProgress.Count;
        _refsInProgress.AddRange(expanded);
        try
        {
            return Visit(Element(merged), path, hint);
        }
        finally
        {
            _refsInProgress.RemoveRange(mark, _refsInProgress.Count - mark);
        }
    }

    /// <summary>The schema with its $ref and allOf resolved and merged into one object (nested schemas keep theirs).</summary>
    private JsonObject Flatten(JsonElement schema, string path, List<string> expanded)
    {
        if (++_depth > MaxDepth)
            throw new SchemaNotSupportedException("schema", path, $"nested more than {MaxDepth} levels deep (counting each $ref followed)");
        try
        {
            var result = SchemaMerge.ToObject(schema, path);
            if (schema.ValueKind != JsonValueKind.Object) return result;
            SchemaKeywords.Check(schema, path);
            result = SchemaKeywords.Siblings(schema, "$ref", "allOf");
            if (schema.TryGetProperty("$ref", out var reference))
            {
                var target = reference.GetString()!;
                if (expanded.Contains(target) || _refsInProgress.IndexOf(target, _unguardedFrom) >= 0)
                    throw new SchemaNotSupportedException("$ref", path,
                        $"'{target}' refers back to itself before any JSON text is written (a document would have to contain itself at the same position); recursion is supported through objects and arrays");
                // Recursion after some text (a tree node's child with extra keywords): the child is the plain
                // recursive rule; its sibling keywords are not applied (approximation).
                if (_refsInProgress.Contains(target)) return new JsonObject { ["$ref"] = target };
                expanded.Add(target);
                result = SchemaMerge.Merge(Flatten(Resolve(target, path), target, expanded), result, path);
            }
            if (schema.TryGetProperty("allOf", out var all))
            {
                int i = 0;
                foreach (var part in all.EnumerateArray())
                {
                    var partPath = $"{path}/allOf/{i++}";
                    result = SchemaMerge.Merge(result, Flatten(part, partPath, expanded), partPath);
                }
            }
            return result;
        }
        finally
        {
            _depth--;
        }
    }

    private static JsonElement Element(JsonObject node)
    {
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }

    /// <summary>The schema's types; without "type" they are inferred from the keywords present, else any value. OpenAPI's nullable adds null.</summary>
    private static List<string> Types(JsonElement schema, string path)
    {
        List<string> names;
        if (!schema.TryGetProperty("type", out var type))
        {
            names = [Inferred(schema)];
        }
        else
        {
            names = type.ValueKind switch
            {
                JsonValueKind.String => [type.GetString()!],
                JsonValueKind.Array when type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String)
                    => type.EnumerateArray().Select(t => t.GetString()!).Distinct().ToList(),
                _ => throw new SchemaNotSupportedException("type", path, "not valid JSON Schema: expected a type name or a non-empty array of them"),
            };
            foreach (var name in names)
            {
                if (name is not ("object" or "array" or "string" or "number" or "integer" or "boolean" or "null"))
                    throw new SchemaNotSupportedException("type", path, $"not valid JSON Schema: unknown type '{name}'");
            }
        }
        if (schema.TryGetProperty("nullable", out var nullable) && nullable.ValueKind == JsonValueKind.True && !names.Contains("null") && !names.Contains("any"))
            names.Add("null");
        return names;
    }

    /// <summary>
    /// A schema without "type" allows every type, its keywords constraining only their own; generating the type
    /// its keywords describe (an object for "properties", a string for "pattern") keeps to what it allows.
    /// </summary>
    private static string Inferred(JsonElement schema)
    {
        bool Has(params string[] keywords) => keywords.Any(k => schema.TryGetProperty(k, out _));
        if (Has("properties", "additionalProperties", "required", "minProperties", "maxProperties", "propertyNames")) return "object";
        if (Has("items", "prefixItems", "minItems", "maxItems")) return "array";
        if (Has("minLength", "maxLength", "pattern") || (schema.TryGetProperty("format", out var f) && IsStringFormat(f.GetString()))) return "string";
        if (Has("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")) return "number";
        return "any";
    }

    private static bool IsStringFormat(string? format) => format is "date" or "time" or "date-time" or "uuid" or "email" or "uri";

    private string TypeExpr(JsonElement schema, string type, string path, string hint) => type switch
    {
        "object" => AfterText(() => ObjectSchema.Expr(this, schema, path, hint)),
        "array" => AfterText(() => ArraySchema.Expr(this, schema, path, hint)),
        "string" => StringExpr(schema, path, hint),
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

    private string StringExpr(JsonElement schema, string path, string hint)
    {
        var min = Count(schema, "minLength", path);
        var max = Count(schema, "maxLength", path);
        if (max < min) throw new SchemaNotSupportedException("maxLength", path, "maxLength is below minLength: no string matches");
        var format = schema.TryGetProperty("format", out var f) && IsStringFormat(f.GetString()) ? f.GetString()! : null;
        // A date, date-time or uuid next to a pattern is written in the format's strict form, which also matches the
        // patterns zod and Pydantic write beside them (a pattern alone can allow what the format forbids, e.g. zod's
        // date-time pattern allows no seconds). The pattern itself is then not applied.
        if (format is "date" or "date-time" or "uuid") return _rules.Primitive(format);
        if (schema.TryGetProperty("pattern", out var pattern) && PatternExpr(pattern.GetString()!, min ?? 0, max, hint) is { } patternRule)
            return patternRule;
        // Formats have their own lengths; minLength/maxLength next to one are not enforced. Any other format is an
        // annotation (the JSON Schema default) and is ignored.
        if (format is not null) return _rules.Primitive(format);
        if (min is null && max is null) return _rules.Primitive("string");
        if (max == 0) return GbnfRules.Literal("\"\"");
        // Named by its bounds, so every string with the same bounds shares one rule (and its expansion).
        var chars = GbnfRepetition.Of(_rules, _rules.Primitive("char"), min ?? 0, max);
        return _rules.Named($"string-{min ?? 0}-{(max is { } m ? m.ToString(CultureInfo.InvariantCulture) : "up")}", $"\"\\\"\" {chars} \"\\\"\"");
    }

    /// <summary>
    /// The string rule for a pattern (see <see cref="PatternConverter"/>), narrowed to minLength/maxLength where that
    /// is exact, or null when the pattern is outside the converted subset or its grammar would not pass the checker
    /// on its own: the pattern is then ignored, as llama.cpp ignores what it cannot convert.
    /// </summary>
    private string? PatternExpr(string pattern, int min, int? max, string hint)
    {
        var tree = PatternConverter.TryParse(pattern);
        if (tree is null) return null;
        tree = PatternConverter.WithLength(tree, min, max) ?? tree;
        try
        {
            // Tried on its own first, so a pattern that would break the size bounds is ignored, not a refusal.
            var scratch = new GbnfRules();
            var trial = scratch.Render($"\"\\\"\" {PatternConverter.Emit(scratch, tree, "pattern")} \"\\\"\"");
            if (!Checking.GbnfChecker.Check(trial).IsUsable) return null;
        }
        catch (FormatException)
        {
            return null; // a class or alternation that matches nothing
        }
        return _rules.Named(hint + "-pattern", $"\"\\\"\" {PatternConverter.Emit(_rules, tree, hint + "-pattern")} \"\\\"\"");
    }

    private string IntegerExpr(JsonElement schema, string path)
    {
        var (min, max) = Bounds(schema, 0);
        if (min is null && max is null) return _rules.Primitive("integer");
        if (max is null && min == 0) return _rules.Primitive("natural");
        if (max is null && min == 1) return _rules.Primitive("positive");
        var expr = NumericRanges.Integer(min, max)
            ?? throw new SchemaNotSupportedException(max is null ? "minimum" : "maximum", path,
                $"no integer with at most {NumericRanges.IntegerDigits} digits lies within the bounds");
        return _rules.Named($"integer-{Label(min)}-{Label(max)}", expr);
    }

    private string NumberExpr(JsonElement schema, string path)
    {
        var (min, max) = Bounds(schema, NumericRanges.FractionDigits);
        if (min is null && max is null) return _rules.Primitive("number");
        var expr = NumericRanges.Number(min, max)
            ?? throw new SchemaNotSupportedException(max is null ? "minimum" : "maximum", path, "no number lies within the bounds");
        return _rules.Named("number-range", expr);
    }

    private static string Label(BigInteger? bound) => bound is not { } b ? "any" : b < 0 ? "m" + (-b).ToString(CultureInfo.InvariantCulture) : b.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The inclusive bounds, scaled by 10^<paramref name="scale"/> and rounded inwards: minimum/maximum,
    /// exclusiveMinimum/exclusiveMaximum as numbers (the next representable value inside) or, as in draft 4, as
    /// booleans making minimum/maximum exclusive. The tighter of several bounds on one side wins.
    /// </summary>
    private static (BigInteger? Min, BigInteger? Max) Bounds(JsonElement schema, int scale)
    {
        BigInteger? min = null, max = null;
        bool draft4ExclusiveMin = schema.TryGetProperty("exclusiveMinimum", out var exMin) && exMin.ValueKind == JsonValueKind.True;
        bool draft4ExclusiveMax = schema.TryGetProperty("exclusiveMaximum", out var exMax) && exMax.ValueKind == JsonValueKind.True;
        if (schema.TryGetProperty("minimum", out var minimum))
            min = draft4ExclusiveMin ? NumericRanges.Scaled(minimum, scale, ceiling: false) + 1 : NumericRanges.Scaled(minimum, scale, ceiling: true);
        if (exMin.ValueKind == JsonValueKind.Number)
        {
            var exclusive = NumericRanges.Scaled(exMin, scale, ceiling: false) + 1;
            min = min is { } m && m > exclusive ? m : exclusive;
        }
        if (schema.TryGetProperty("maximum", out var maximum))
            max = draft4ExclusiveMax ? NumericRanges.Scaled(maximum, scale, ceiling: true) - 1 : NumericRanges.Scaled(maximum, scale, ceiling: false);
        if (exMax.ValueKind == JsonValueKind.Number)
        {
            var exclusive = NumericRanges.Scaled(exMax, scale, ceiling: true) - 1;
            max = max is { } m && m < exclusive ? m : exclusive;
        }
        return (min, max);
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
        var target = reference.GetString()!;
        if (_refsInProgress.IndexOf(target, _unguardedFrom) >= 0)
            throw new SchemaNotSupportedException("$ref", path,
                $"'{target}' refers back to itself before any JSON text is written (a document would have to contain itself at the same position); recursion is supported through objects and arrays");
        if (_refRules.TryGetValue(target, out var existing)) return existing;
        var node = Resolve(target, path);
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

    /// <summary>The schema a local JSON pointer reference points at; anything else is refused (it cannot be resolved here).</summary>
    private JsonElement Resolve(string target, string path)
    {
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
        return node;
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
