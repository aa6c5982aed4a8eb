namespace Inference.Engine.Grammar;

/// <summary>
/// The fixed GBNF building blocks. Everything that could repeat is bounded (whitespace runs, digit counts),
/// so a weak model cannot wander forever inside a single token class; JSON strings stay unbounded unless
/// the schema sets maxLength.
/// </summary>
internal static class PrimitiveRules
{
    private static readonly Dictionary<string, (string Body, string[] Uses)> Rules = new(StringComparer.Ordinal)
    {
        // Like llama.cpp's json-schema-to-grammar: nothing, one space, or up to two newlines plus up to 20
        // blanks of indentation. Enough for pretty printing, too little for a model to stall in whitespace.
        ["ws"] = ("(\" \" | \"\\n\"{1,2} [ \\t]{0,20})?", []),
        // Any code point except '"', '\' and control characters, or an escape. \u escapes exclude
        // surrogates (D800-DFFF) so every string decodes to valid Unicode; non-BMP characters come as raw UTF-8.
        ["char"] = ("[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\/bfnrt] | \"u\" hex-nonsurrogate)", ["hex-nonsurrogate"]),
        ["hex-nonsurrogate"] = ("[0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}", []),
        ["string"] = ("\"\\\"\" char* \"\\\"\"", ["char"]),
        // At most 16 integer digits, 16 fraction digits and 3 exponent digits.
        ["number"] = ("integer (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?", ["integer"]),
        ["integer"] = ("\"-\"? natural", ["natural"]),
        ["natural"] = ("\"0\" | positive", ["positive"]),
        ["positive"] = ("[1-9] [0-9]{0,15}", []),
        ["boolean"] = ("\"true\" | \"false\"", []),
        ["null"] = ("\"null\"", []),
        ["value"] = ("object | array | string | number | boolean | null", ["object", "array", "string", "number", "boolean", "null"]),
        ["object"] = ("\"{\" ws (member (\",\" ws member)*)? \"}\"", ["ws", "member"]),
        ["member"] = ("string ws \":\" ws value ws", ["string", "ws", "value"]),
        ["array"] = ("\"[\" ws (value ws (\",\" ws value ws)*)? \"]\"", ["ws", "value"]),
        // Any JSON object, bounded: at most 8 members, one level of nesting, strings up to 48 characters, little
        // whitespace (see AnyJsonObject). Used for format "json" and for tool arguments without a usable schema.
        ["bounded-object"] = ("\"{\" bounded-ws ( bounded-member ( bounded-ws \",\" bounded-ws bounded-member ){0,7} )? bounded-ws \"}\"",
            ["bounded-ws", "bounded-member"]),
        ["bounded-member"] = ("bounded-key bounded-ws \":\" bounded-ws bounded-value",
            ["bounded-key", "bounded-ws", "bounded-value"]),
        ["bounded-inner"] = ("\"{\" bounded-ws ( bounded-key bounded-ws \":\" bounded-ws bounded-scalar ( bounded-ws \",\" bounded-ws bounded-key bounded-ws \":\" bounded-ws bounded-scalar ){0,3} )? bounded-ws \"}\"",
            ["bounded-ws", "bounded-key", "bounded-scalar"]),
        ["bounded-array"] = ("\"[\" bounded-ws ( bounded-scalar ( bounded-ws \",\" bounded-ws bounded-scalar ){0,7} )? bounded-ws \"]\"",
            ["bounded-ws", "bounded-scalar"]),
        ["bounded-value"] = ("bounded-scalar | bounded-inner | bounded-array", ["bounded-scalar", "bounded-inner", "bounded-array"]),
        ["bounded-scalar"] = ("bounded-string | bounded-number | \"true\" | \"false\" | \"null\"", ["bounded-string", "bounded-number"]),
        ["bounded-key"] = ("\"\\\"\" [a-zA-Z_] [a-zA-Z0-9_]{0,23} \"\\\"\"", []),
        ["bounded-string"] = ("\"\\\"\" bounded-char{0,48} \"\\\"\"", ["bounded-char"]),
        ["bounded-char"] = ("[^\"\\\\\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4} )", []),
        ["bounded-number"] = ("\"-\"? ( \"0\" | [1-9] [0-9]{0,14} ) ( \".\" [0-9]{1,8} )? ( [eE] [-+]? [0-9]{1,3} )?", []),
        ["bounded-ws"] = ("[ \\t\\n]{0,3}", []),
        // format date / time / date-time: exact RFC 3339 values, narrowed to a form every common checker and the
        // patterns zod and Pydantic write next to them accept: years 1000-9999, days that exist in their month
        // (February up to the 28th: no leap-year arithmetic), no leap second; a date-time has seconds and ends in "Z".
        ["date"] = ("\"\\\"\" date-body \"\\\"\"", ["date-body"]),
        ["date-body"] = ("[1-9] [0-9]{3} \"-\" (month-31 \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01]) | month-30 \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\") | \"02-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]))",
            ["month-31", "month-30"]),
        ["month-31"] = ("\"0\" [13578] | \"1\" [02]", []),
        ["month-30"] = ("\"0\" [469] | \"11\"", []),
        ["time"] = ("\"\\\"\" clock (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9]) \"\\\"\"", ["clock"]),
        ["clock"] = ("([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,3})?", []),
        ["date-time"] = ("\"\\\"\" date-body \"T\" clock \"Z\" \"\\\"\"", ["date-body", "clock"]),
        // format uuid: RFC 4122 (a version digit 1-8 and the variant bits 10xx), as zod's uuid pattern requires.
        ["uuid"] = ("\"\\\"\" [0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [1-8] [0-9a-fA-F]{3} \"-\" [89abAB] [0-9a-fA-F]{3} \"-\" [0-9a-fA-F]{12} \"\\\"\"", []),
        // format email: one to three dot-separated atoms of letters, digits, "_", "+" and "-" (at most 50 characters,
        // within RFC 5321's 64), "@", one to three host labels and a top-level domain of letters: no quoted local parts,
        // IP literals, internationalised names or the rarer atom characters, which zod's email pattern forbids.
        // format uri: an http or https URL: a host name, then an optional path, query and fragment of RFC 3986
        // characters or %-escapes (other schemes are valid URIs too, but not every checker takes them).
        ["email"] = ("\"\\\"\" email-atom (\".\" email-atom){0,2} \"@\" (email-label \".\"){1,3} [a-zA-Z]{2,24} \"\\\"\"", ["email-atom", "email-label"]),
        ["email-atom"] = ("[a-zA-Z0-9_+-]{1,16}", []),
        ["email-label"] = ("[a-zA-Z0-9] ([a-zA-Z0-9-]{0,30} [a-zA-Z0-9])?", []),
        ["uri"] = ("\"\\\"\" \"http\" \"s\"? \"://\" email-label (\".\" email-label)* (\"/\" uri-char*)? (\"?\" uri-char*)? (\"#\" uri-char*)? \"\\\"\"", ["email-label", "uri-char"]),
        ["uri-char"] = ("[a-zA-Z0-9._~!$&'()*+,;=:@/-] | \"%\" [0-9a-fA-F]{2}", []),
        // Keys of extra properties next to declared ones: written without escapes, so that the key text is the name
        // and "not a declared name" can be checked character by character (see ObjectSchema).
        ["key-char"] = ("[^\"\\\\\\x7F\\x00-\\x1F]", []),
    };

    public static IEnumerable<string> Names => Rules.Keys;

    public static (string Body, string[] Uses) Get(string name) => Rules[name];
}
