using System.Text.Json.Nodes;

namespace Inference.GrammarFuzz;

/// <summary>
/// Random JSON Schemas built from every keyword the schema converter knows, with hostile values: huge, negative,
/// zero and fractional counts, counts around llama.cpp's repetition limit, recursion through $ref and $defs
/// (productive, left-recursive and unproductive), deep nesting, odd property names (quotes, backslashes, control
/// characters, non-ASCII, surrogates, names of the grammar's own rules), numeric bounds (huge, fractional,
/// reversed, exclusive, draft-4 booleans, zod's safe-integer range), regex patterns (the converted subset and
/// what is ignored: lookaround, backreferences, malformed ones, huge counts), prefixItems, allOf and keywords
/// next to $ref/anyOf (merged), and keywords the converter accepts and ignores.
/// Deterministic for a seed.
/// </summary>
public sealed class SchemaGenerator(Random random)
{
    private static readonly JsonNode?[] Counts =
    [
        0, 1, 2, 3, 7, 100, 999, 1000, 1001, 1998, 1999, 2000, 2001, 2500, 4096, 5000, 65535, 100_000, 1_000_000,
        int.MaxValue, -1, int.MinValue, 1.5, 1e30, "3", null, true,
    ];

    private static readonly string[] Names =
    [
        "a", "b", "name", "id", "value", "", " ", "a b", "quote\"d", "back\\slash", "new\nline", "tab\t", "nul\u0000",
        "del\u007f", "日本語", "emoji 😀", "lone \ud800 surrogate", "root", "string", "ws", "char", "value-1", "0", "-", "$ref", "#",
        "a/b", "~0", "%25", "x_1", "ünï", new string('k', 300), "[", "]", "|", "::=", "(", "*",
    ];

    private static readonly string[] Types = ["object", "array", "string", "number", "integer", "boolean", "null"];
    private static readonly string[] Formats = ["date", "time", "date-time", "uuid", "email", "uri", ""];
    private static readonly string[] Ignored =
        ["multipleOf", "not", "if", "then", "else", "contains", "patternProperties", "uniqueItems", "dependentRequired", "dependentSchemas", "unevaluatedProperties", "minContains"];

    private static readonly JsonNode?[] Bounds =
    [
        0, 1, -1, 5, -5, 0.5, -0.5, 1.25, 9, 10, 99, 100, 1000, -1000, 9007199254740991, -9007199254740991, 9007199254740992,
        1e15, 9999999999999999, 10000000000000000, 1e16, 1e300, -1e300, 1e-300, 0.1, 0.0000000000000001, 3.14159265358979323846,
        123456789.123456789, "5", null, true, false,
    ];

    private static readonly string[] PatternPieces =
    [
        "a", "abc", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S", ".", "[a-z]", "[^0-9]", "[A-Za-z0-9_-]", "[\\]\\\\\"]", "[]", "[^]",
        "\"", "\\\\", "\\.", "\\u00e9", "\\x41", "\\n", "\\t", "é", "日本", "😀", "\u0001", "-", "{", "}", "]", "\\/",
        "(?=a)", "(?!b)", "(?<=c)", "\\1", "\\b", "\\p{L}", "\\k<n>", "(?<n>x)", "(", ")", "[", "|", "?", "*", "+", "^", "$",
    ];

    private static readonly string[] Quantifiers = ["", "", "", "?", "*", "+", "{2}", "{0,3}", "{1,}", "{3,1}", "{1000}", "{1999}", "{2001}", "{0,100000}", "{100001}", "*?", "{2,5}?"];

    private readonly List<string> _defs = [];
    private int _budget;

    /// <summary>One schema. Sometimes with $defs (possibly referring to each other and to the root).</summary>
    public JsonObject Next()
    {
        _defs.Clear();
        _budget = random.Next(5, 60);
        JsonObject? defs = null;
        if (Chance(0.3))
        {
            int count = random.Next(1, 4);
            for (int i = 0; i < count; i++) _defs.Add(Pick(["Node", "Item", "A", "B", "x y", "ref"]) + i);
            defs = [];
            foreach (var def in _defs) defs[def] = Schema(3);
        }
        if (Chance(0.03)) return RefChain(random.Next(50, 400));
        var root = Schema(random.Next(1, 7));
        if (defs is not null && !root.ContainsKey("$defs")) root[Chance(0.8) ? "$defs" : "definitions"] = defs;
        return root;
    }

    /// <summary>A long chain of definitions, each only a $ref to the next (deep converter and llama.cpp recursion).</summary>
    private JsonObject RefChain(int length)
    {
        var defs = new JsonObject();
        for (int i = 0; i < length; i++)
            defs["d" + i] = i + 1 < length ? new JsonObject { ["$ref"] = $"#/$defs/d{i + 1}" } : new JsonObject { ["type"] = "integer" };
        if (Chance(0.3)) defs["d" + (length - 1)] = new JsonObject { ["$ref"] = "#/$defs/d0" };
        return new JsonObject { ["$defs"] = defs, ["$ref"] = "#/$defs/d0" };
    }

    public JsonObject Schema(int depth)
    {
        _budget--;
        if (depth <= 0 || _budget <= 0) return Leaf();
        int kind = random.Next(100);
        return kind switch
        {
            < 25 => ObjectSchema(depth),
            < 40 => ArraySchema(depth),
            < 55 => StringSchema(),
            < 62 => Union(depth),
            < 72 => Reference(),
            < 77 => EnumSchema(),
            < 80 => Deep(random.Next(5, Chance(0.2) ? 70 : 30)),
            < 83 => MultiType(depth),
            < 86 => new JsonObject { [Pick(Ignored)] = Chance(0.5) ? Value() : Leaf(), ["type"] = Pick(Types) },
            < 90 => NumericSchema(),
            < 93 => AllOf(depth),
            < 96 => WithSiblings(depth),
            _ => Leaf(),
        };
    }

    private JsonObject ObjectSchema(int depth)
    {
        var schema = new JsonObject();
        if (Chance(0.8)) schema["type"] = "object";
        if (Chance(0.25))
        {
            // A map: additionalProperties schema, maybe bounded keys and counts.
            schema["additionalProperties"] = Chance(0.1) ? Chance(0.5) : Schema(depth - 1);
            if (Chance(0.5)) schema["propertyNames"] = Chance(0.9) ? StringSchema() : new JsonObject { ["type"] = "integer" };
            if (Chance(0.5)) schema["minProperties"] = Count();
            if (Chance(0.5)) schema["maxProperties"] = Count();
            return Annotate(schema);
        }
        var properties = new JsonObject();
        int count = random.Next(0, 6);
        for (int i = 0; i < count; i++)
        {
            var name = Pick(Names);
            if (properties.ContainsKey(name)) continue;
            properties[name] = Chance(0.15) ? SelfReference() : Schema(depth - 1);
        }
        schema["properties"] = properties;
        if (Chance(0.6))
        {
            var required = new JsonArray();
            foreach (var (name, _) in properties) if (Chance(0.5)) required.Add(name);
            if (Chance(0.05)) required.Add("undeclared");
            schema["required"] = required;
        }
        if (Chance(0.3)) schema["additionalProperties"] = Chance(0.5) ? false : Chance(0.5) ? true : Leaf();
        if (Chance(0.05)) schema["minProperties"] = Count();
        if (Chance(0.05)) schema["maxProperties"] = Count();
        return Annotate(schema);
    }

    private JsonObject ArraySchema(int depth)
    {
        var schema = new JsonObject { ["type"] = "array" };
        if (Chance(0.85)) schema["items"] = Chance(0.05) ? new JsonArray(Leaf()) : Chance(0.1) ? SelfReference() : Schema(depth - 1);
        if (Chance(0.6)) schema["minItems"] = Count();
        if (Chance(0.6)) schema["maxItems"] = Count();
        if (Chance(0.05)) schema["uniqueItems"] = Chance(0.5);
        if (Chance(0.2))
        {
            var prefix = new JsonArray();
            for (int i = random.Next(0, 4); i > 0; i--) prefix.Add(Chance(0.05) ? JsonValue.Create(false) : Schema(depth - 1));
            schema["prefixItems"] = prefix;
            if (Chance(0.4)) schema["items"] = Chance(0.6) ? false : Schema(depth - 1);
        }
        return Annotate(schema);
    }

    private JsonObject StringSchema()
    {
        var schema = new JsonObject { ["type"] = "string" };
        if (Chance(0.6)) schema["minLength"] = Count();
        if (Chance(0.7)) schema["maxLength"] = Count();
        if (Chance(0.15)) schema["format"] = Pick(Formats);
        if (Chance(0.25)) schema["pattern"] = Pattern();
        return schema;
    }

    /// <summary>An integer or number with bounds: ordinary, huge, fractional, reversed, exclusive, draft-4 booleans.</summary>
    private JsonObject NumericSchema()
    {
        var schema = new JsonObject { ["type"] = Chance(0.6) ? "integer" : "number" };
        if (Chance(0.1))
        {
            schema["minimum"] = -9007199254740991;
            schema["maximum"] = 9007199254740991;
            return schema;
        }
        foreach (var keyword in new[] { "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum" })
        {
            if (Chance(0.4)) schema[keyword] = Chance(0.3) ? random.Next(-100_000, 100_000) : Pick(Bounds)?.DeepClone();
        }
        if (Chance(0.1)) schema["multipleOf"] = Pick(Bounds)?.DeepClone();
        return schema;
    }

    /// <summary>A regex from pieces of the converted subset and of what it ignores (lookaround, backreferences, malformed).</summary>
    private string Pattern()
    {
        var sb = new System.Text.StringBuilder();
        if (Chance(0.7)) sb.Append('^');
        for (int i = random.Next(0, 6); i > 0; i--)
        {
            if (Chance(0.2))
            {
                sb.Append(Chance(0.3) ? "(?:" : "(").Append(Pick(PatternPieces)).Append('|').Append(Pick(PatternPieces)).Append(')');
            }
            else sb.Append(Pick(PatternPieces));
            sb.Append(Pick(Quantifiers));
        }
        if (Chance(0.7)) sb.Append('$');
        return sb.ToString();
    }

    /// <summary>allOf of object parts, bounds, enums and references (merged by the converter), sometimes contradicting.</summary>
    private JsonObject AllOf(int depth)
    {
        var parts = new JsonArray();
        for (int i = random.Next(Chance(0.05) ? 0 : 1, 4); i > 0; i--)
        {
            parts.Add(random.Next(5) switch
            {
                0 => ObjectSchema(depth - 1),
                1 => NumericSchema(),
                2 => EnumSchema(),
                3 => Chance(0.5) ? Reference() : SelfReference(),
                _ => Schema(depth - 1),
            });
        }
        var schema = new JsonObject { ["allOf"] = parts };
        if (Chance(0.3)) schema["type"] = Pick(Types);
        return schema;
    }

    /// <summary>$ref, anyOf or oneOf with constraining keywords next to it (merged into the target or every branch), or OpenAPI nullable.</summary>
    private JsonObject WithSiblings(int depth)
    {
        var schema = random.Next(3) switch
        {
            0 => Reference(),
            1 => Union(depth),
            _ => Leaf(),
        };
        if (Chance(0.5)) schema["type"] = Pick(Types);
        if (Chance(0.3)) schema["nullable"] = true;
        if (Chance(0.3)) schema["maxLength"] = Count();
        if (Chance(0.3)) schema["minimum"] = Pick(Bounds)?.DeepClone();
        if (Chance(0.2)) schema["properties"] = new JsonObject { ["k"] = Leaf() };
        if (Chance(0.2)) schema["default"] = null;
        return schema;
    }

    private JsonObject Union(int depth)
    {
        var options = new JsonArray();
        int count = Chance(0.05) ? 0 : random.Next(1, 5);
        for (int i = 0; i < count; i++) options.Add(Chance(0.2) ? SelfReference() : Schema(depth - 1));
        return new JsonObject { [Chance(0.5) ? "anyOf" : "oneOf"] = options };
    }

    /// <summary>A reference to the root, to a definition, or somewhere that does not resolve.</summary>
    private JsonObject Reference()
    {
        string target = random.Next(12) switch
        {
            < 3 => "#",
            < 10 when _defs.Count > 0 => $"#/$defs/{Pick(_defs.ToArray()).Replace("~", "~0").Replace("/", "~1")}",
            10 => "#/$defs/Missing",
            _ => Pick(["https://example.com/s.json", "#/properties/a", "#/items", "#/anyOf/0", "other.json#/x", "#/definitions/" + Pick(_defs.Count > 0 ? _defs.ToArray() : ["x"])]),
        };
        return new JsonObject { ["$ref"] = target };
    }

    /// <summary>A $ref that points back at the root or a definition: recursion, often with nothing consumed in between.</summary>
    private JsonObject SelfReference() =>
        new() { ["$ref"] = _defs.Count > 0 && Chance(0.5) ? "#/$defs/" + Pick(_defs.ToArray()) : "#" };

    private JsonObject EnumSchema()
    {
        if (Chance(0.3)) return new JsonObject { ["const"] = Value() };
        var values = new JsonArray();
        int count = Chance(0.05) ? 0 : random.Next(1, 6);
        for (int i = 0; i < count; i++) values.Add(Value());
        var schema = new JsonObject { ["enum"] = values };
        if (Chance(0.3)) schema["type"] = Pick(Types);
        return schema;
    }

    /// <summary>Nested arrays or objects many levels deep.</summary>
    private JsonObject Deep(int levels)
    {
        JsonObject schema = Leaf();
        for (int i = 0; i < levels; i++)
            schema = Chance(0.5)
                ? new JsonObject { ["type"] = "array", ["items"] = schema, ["maxItems"] = 2 }
                : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["p"] = schema }, ["required"] = new JsonArray("p") };
        return schema;
    }

    private JsonObject MultiType(int depth)
    {
        var types = new JsonArray();
        foreach (var type in Types) if (Chance(0.4)) types.Add(type);
        if (Chance(0.05)) types.Add("bogus");
        var schema = new JsonObject { ["type"] = types };
        if (Chance(0.5)) schema["maxLength"] = Count();
        if (Chance(0.3)) schema["items"] = Schema(depth - 1);
        if (Chance(0.3)) schema["properties"] = new JsonObject { ["k"] = Leaf() };
        return schema;
    }

    private JsonObject Leaf() => random.Next(9) switch
    {
        0 => new JsonObject { ["type"] = "boolean" },
        1 => new JsonObject { ["type"] = "null" },
        2 => new JsonObject { ["type"] = "integer", ["minimum"] = Pick<JsonNode?>([0, 1, 5, -1, 0.5]) },
        3 => new JsonObject { ["type"] = "number" },
        4 => new JsonObject { ["type"] = "integer" },
        5 => StringSchema(),
        6 => new JsonObject(),
        7 => new JsonObject { ["const"] = Value() },
        _ => new JsonObject { ["type"] = "string", ["maxLength"] = random.Next(0, 12) },
    };

    private JsonObject Annotate(JsonObject schema)
    {
        if (Chance(0.2)) schema["title"] = Pick(Names);
        if (Chance(0.2)) schema["description"] = "a \"described\" thing \\ with ünïcode";
        return schema;
    }

    /// <summary>A count: usually small and sensible, often hostile.</summary>
    private JsonNode? Count() => Chance(0.5) ? random.Next(0, 10) : Counts[random.Next(Counts.Length)]?.DeepClone();

    private JsonNode? Value() => random.Next(8) switch
    {
        0 => Pick(Names),
        1 => random.Next(-1000, 1000),
        2 => 1e300 * random.NextDouble(),
        3 => Chance(0.5),
        4 => null,
        5 => new JsonArray(1, "two", null),
        6 => new JsonObject { [Pick(Names)] = Pick(Names) },
        _ => "x",
    };

    private bool Chance(double p) => random.NextDouble() < p;

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];
}
