using System.Globalization;
using System.Text;
using System.Text.Json;
using Inference.Engine.Grammar.Checking;
using Inference.Engine.Tools;

namespace Inference.Engine.Grammar;

/// <summary>
/// The GBNF grammar for tool calls written in a model's <see cref="ToolCallFormat"/>: the format's prefix, then
/// calls (separated as the format separates them), then its suffix. Each call is one alternative per function:
/// its name as a fixed string and arguments following that function's parameters schema (converted like a
/// structured-output schema), so an unknown function or arguments that break the schema cannot be sampled.
/// A function whose schema the converter refuses (invalid, unsatisfiable or over the bounds; or not an object schema) gets any bounded
/// JSON object as arguments instead of failing the request.
/// </summary>
/// <remarks>
/// When the model may also answer in prose, the root is "calls | text", where text is anything that does not
/// begin with the format's trigger (e.g. <c>&lt;tool_call&gt;</c>, or "{" for bare JSON): starting a call
/// commits the model to a well-formed one. A call written after some prose is not constrained (the parser
/// still reads it), and once the output has taken the text branch the scheduler drops the grammar
/// (<see cref="Scheduling.SamplingSettings.GrammarTrigger"/>), so prose costs no grammar work per token.
/// llama.cpp's lazy grammars, which start constraining only at a trigger, were not used:
/// the token that completes a trigger is sampled unconstrained, and if its remaining text does not fit the
/// grammar llama.cpp throws inside a native call, which aborts the process.
/// </remarks>
public static class ToolCallGrammar
{
    /// <param name="format">How the model writes calls.</param>
    /// <param name="functions">The functions that may be called (all tools, or the one the request names).</param>
    /// <param name="allowText">Whether the model may answer with text instead of calls.</param>
    /// <param name="maxCalls">Calls per response (1 when the format has no separator between calls).</param>
    public static string Build(ToolCallFormat format, IReadOnlyList<ToolDefinition> functions, bool allowText, int maxCalls)
    {
        if (functions.Count == 0) throw new ArgumentException("at least one function is needed", nameof(functions));
        var grammar = Build(format, functions, allowText, maxCalls, useSchemas: true);
        // Each schema was checked on its own; the whole grammar is checked too, since many tools add up. Over the
        // bounds, every function falls back to the bounded object, as a schema that cannot be enforced does.
        var verdict = GbnfChecker.Check(grammar);
        if (verdict.IsLimit) grammar = Build(format, functions, allowText, maxCalls, useSchemas: false);
        GbnfChecker.EnsureUsable(grammar);
        return grammar;
    }

    private static string Build(ToolCallFormat format, IReadOnlyList<ToolDefinition> functions, bool allowText, int maxCalls, bool useSchemas)
    {
        var rules = new GbnfRules();
        var alternatives = functions.Select(f => rules.Named("call-" + f.Name,
            Sequence(GbnfRules.Literal(format.NameOpen + f.Name + format.NameClose),
                useSchemas ? Arguments(rules, f) : rules.Primitive("bounded-object"), Literal(format.CallClose))));
        string call = rules.Named("call", string.Join(" | ", alternatives));

        int max = format.Separator is null ? 1 : Math.Max(1, maxCalls);
        string more = max == 1 ? "" : GbnfRepetition.Of(rules, rules.Named("next-call", Sequence(Literal(format.Separator!), call)), 0, max - 1);
        string calls = rules.Named("calls", Sequence(Literal(format.Prefix), call, more, Literal(format.Suffix)));
        return rules.Render(allowText ? $"{calls} | {Text(rules, format.Trigger)}" : calls);
    }

    /// <summary>The function's parameters schema as a rule, or any bounded object when it cannot be enforced.</summary>
    private static string Arguments(GbnfRules rules, ToolDefinition function)
    {
        if (function.Parameters is not { } schema || !IsObjectSchema(schema)) return rules.Primitive("bounded-object");
        try
        {
            // Converted alone first: a schema rejected halfway must not leave half-defined rules in the shared set.
            _ = JsonGrammar.FromSchema(schema);
        }
        catch (SchemaNotSupportedException)
        {
            return rules.Primitive("bounded-object");
        }
        return new SchemaConverter(schema, rules).ConvertInto(function.Name + "-arguments");
    }

    /// <summary>
    /// Arguments must be a JSON object: the schema declares "properties" (or an "additionalProperties" schema for
    /// a map) and no type other than object. Anything else (no schema, "type": "object" alone) gets the bounded
    /// object, which unlike the converter's unbounded "any object" keeps small models from rambling.
    /// </summary>
    private static bool IsObjectSchema(JsonElement schema)
    {
        bool typeIsObject = !schema.TryGetProperty("type", out var type)
            || (type.ValueKind == JsonValueKind.String && type.GetString() == "object");
        bool declaresMembers = schema.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object
            || schema.TryGetProperty("additionalProperties", out var a) && a.ValueKind is JsonValueKind.Object or JsonValueKind.False;
        return typeIsObject && declaresMembers;
    }

    /// <summary>
    /// Any text that does not begin with <paramref name="trigger"/> (including the empty text): for the trigger
    /// t0..tn, either a first character other than t0, or t0 followed by text not beginning with t1..tn, and so on;
    /// a proper prefix of the trigger alone is allowed too.
    /// </summary>
    private static string Text(GbnfRules rules, string trigger)
    {
        string rest = rules.Named("text-rest", "[^\\x00]*");
        var runes = trigger.EnumerateRunes().ToList();
        string? next = null;
        for (int k = runes.Count - 1; k >= 0; k--)
        {
            string other = $"[^{ClassChar(runes[k])}] {rest}";
            next = rules.Named($"text-{k}", next is null ? other : $"{other} | {GbnfRules.Literal(runes[k].ToString())} {next}?");
        }
        return rules.Named("text", $"{next}?");
    }

    /// <summary>A character inside a GBNF character class, always as a numeric escape so no character is special.</summary>
    private static string ClassChar(Rune rune) => rune.Value switch
    {
        < 0x100 => "\\x" + rune.Value.ToString("X2", CultureInfo.InvariantCulture),
        < 0x10000 => "\\u" + rune.Value.ToString("X4", CultureInfo.InvariantCulture),
        _ => "\\U" + rune.Value.ToString("X8", CultureInfo.InvariantCulture),
    };

    /// <summary>A literal, or nothing for empty text (the format's prefix and suffix are often empty).</summary>
    private static string Literal(string text) => text.Length == 0 ? "" : GbnfRules.Literal(text);

    private static string Sequence(params string[] parts) => string.Join(" ", parts.Where(p => p.Length > 0));
}
