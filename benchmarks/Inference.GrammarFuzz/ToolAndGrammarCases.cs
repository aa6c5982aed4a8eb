using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Inference.Engine.Tools;

namespace Inference.GrammarFuzz;

/// <summary>Random tool definitions and call formats, and random edits of grammar text.</summary>
public sealed partial class ToolAndGrammarCases(Random random, SchemaGenerator schemas)
{
    private static readonly string[] FunctionNames = ["get_weather", "search", "a", "tool.v2", "ns:call", "x-y", "f" + new string('n', 60), "ok_1"];
    private static readonly string[] InvalidNames = ["bad name", "", "quo\"te", "ünï", "f" + new string('n', 64)];

    private static readonly ToolCallFormat[] Formats =
    [
        ToolCallFormat.PlainJson,
        new("<tool_call>\n", "\n</tool_call>\n<tool_call>\n", "\n</tool_call>", "{\"name\": \"", "\", \"arguments\": ", "}"),
        new("[TOOL_CALLS] [", ", ", "]", "{\"name\": \"", "\", \"arguments\": ", "}"),
        new("<|python_tag|>", null, "", "{\"name\": \"", "\", \"parameters\": ", "}"),
        new("«ünï» \"q\" \\ ", "\t|\t", " ⟩", "{\"n\":\"", "\",\"a\":", "}"),
        new("", "\n", "", "{\"name\":\"", "\",\"arguments\":", "}"),
    ];

    /// <summary>A tools array as a request would carry it (names and schemas sometimes invalid).</summary>
    public JsonArray Tools()
    {
        var tools = new JsonArray();
        int count = random.Next(1, 6);
        for (int i = 0; i < count; i++)
        {
            // Mostly valid names (so the schemas get converted); sometimes one the request validation must refuse.
            string name = random.NextDouble() < 0.1 ? InvalidNames[random.Next(InvalidNames.Length)] : FunctionNames[random.Next(FunctionNames.Length)];
            var function = new JsonObject { ["name"] = name + (i == 0 ? "" : i) };
            if (random.NextDouble() < 0.9)
            {
                var parameters = schemas.Next();
                if (random.NextDouble() < 0.7 && !parameters.ContainsKey("$ref")) parameters["type"] = "object";
                function["parameters"] = parameters;
            }
            tools.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }
        return tools;
    }

    public ToolCallFormat Format() => Formats[random.Next(Formats.Length)];

    /// <summary>
    /// One random edit: a count moved around llama.cpp's limits, a rule removed or redefined, left recursion
    /// added (directly, or through a group or an optional), a group repeated whose names are new inside it, a
    /// stray character, an unknown escape, or the text cut short.
    /// </summary>
    public string Mutate(string grammar)
    {
        var lines = grammar.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        string RuleName(string line) => line[..Math.Max(0, line.IndexOf(" ::=", StringComparison.Ordinal))];
        int which = random.Next(lines.Count);
        switch (random.Next(12))
        {
            case 0:
                return CountPattern().Replace(grammar, _ => "{" + Pick(["0", "1", "1998", "1999", "2000", "2001", "0,1999", "0,2000", "1999,", "2000,", "3,2", "99999999999999999999999"]) + "}", 1, random.Next(Math.Max(1, grammar.Length)));
            case 1:
                lines.RemoveAt(which);
                break;
            case 2:
                lines[which] = lines[which].Replace("::= ", "::= " + RuleName(lines[which]) + " ", StringComparison.Ordinal);
                break;
            case 3:
                lines[which] = lines[which].Replace("::= ", $"::= (\"\" | {RuleName(lines[which])}?)? {RuleName(lines[which])} ", StringComparison.Ordinal);
                break;
            case 4:
                int k = random.Next(2) == 0 ? random.Next(600, 1100) : random.Next(1, 2100);
                lines.Add($"extra{which} ::= (\"a\" fresh{which}a fresh{which}b){{{k}}}");
                lines.Add($"fresh{which}a ::= \"b\"");
                lines.Add($"fresh{which}b ::= \"c\"");
                break;
            case 5:
                lines.Add(lines[which]);
                lines.Add(RuleName(lines[which]) + " ::= \"redefined\"");
                break;
            case 6:
                var text = new StringBuilder(grammar);
                text.Insert(random.Next(text.Length + 1), Pick(["(", ")", "[", "]", "{", "}", "|", "*", "+", "?", "\\", "#", "\n", " ", "-", "\"", "<[3]>", "\u0001", "é"]));
                return text.ToString();
            case 7:
                return grammar.Replace("\\\"", Pick(["\\q", "\\x4", "\\u12", "\\", "\\U0010FFFF"]), StringComparison.Ordinal);
            case 8:
                return grammar[..random.Next(grammar.Length + 1)];
            case 9:
                lines[which] = lines[which].Replace("::= ", "::= (", StringComparison.Ordinal) + "){" + random.Next(1, 2100) + "}";
                break;
            case 10:
                // Left recursion llama.cpp misses: hidden-b derives empty text without an empty alternative of its own.
                lines.Add($"hidden{which} ::= hidden{which}b hidden{which} \"x\" | \"y\"");
                lines.Add($"hidden{which}b ::= hidden{which}c");
                lines.Add($"hidden{which}c ::= []");
                break;
            default:
                lines.Add($"empty{which} ::= [] | \"x\"");
                lines.Add($"loop{which} ::= empty{which}? loop{which} \"y\" | \"z\"");
                break;
        }
        return string.Join("\n", lines) + "\n";
    }

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];

    [GeneratedRegex(@"\{[0-9,]+\}")]
    private static partial Regex CountPattern();
}
