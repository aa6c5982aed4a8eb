using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// GBNF grammars (llama.cpp's grammar syntax) for structured outputs: Ollama's <c>format</c> and OpenAI's
/// <c>response_format</c>. The grammar starts at rule <c>root</c> and ends right after the JSON document,
/// so llama.cpp only lets the model emit end-of-generation once the document is complete.
/// </summary>
/// <remarks>
/// Enforced: type (arrays of types, OpenAPI nullable), properties/required (fixed order: required first, then
/// optional), additionalProperties (false, true or a schema, also next to properties: extra keys that are not a
/// declared name), items, prefixItems (and draft-2019 tuple items/additionalItems), minItems/maxItems, enum/const
/// of any JSON values, minLength/maxLength, minimum/maximum/exclusiveMinimum/exclusiveMaximum on integers and
/// numbers (<see cref="NumericRanges"/>), pattern (<see cref="PatternConverter"/>), format date/time/date-time/
/// uuid, anyOf/oneOf (oneOf exclusivity is not enforced), allOf and keywords next to $ref/anyOf/oneOf (merged,
/// <see cref="SchemaMerge"/>), local $ref (#, #/$defs/..., #/definitions/...; recursion through objects and
/// arrays, as in trees and linked lists), and on maps propertyNames and minProperties/maxProperties. Counts up to
/// 2147483647 are enforced exactly (see <see cref="GbnfRepetition"/>).
/// Approximated: format email and uri (see <see cref="PrimitiveRules"/>); bounded numbers have no exponent and at
/// most 16 integer and 16 fraction digits; minLength/maxLength next to a pattern only where exact, next to a
/// format not at all; two different patterns or formats in an allOf keep the first.
/// Accepted and ignored, as llama.cpp does: multipleOf, uniqueItems, contains, not, if/then/else,
/// dependentRequired, dependentSchemas, patternProperties, unevaluated*, min/maxProperties and propertyNames next
/// to properties, unknown formats and keywords, and patterns outside the converted subset.
/// Refused with <see cref="SchemaNotSupportedException"/>: schemas that are not valid JSON Schema (see
/// <see cref="SchemaKeywords"/>) or that no document matches, remote or unresolvable $ref, a $ref that recurs
/// before any text is written (left recursion) or admits no finite document, schemas nested more than
/// <see cref="SchemaConverter.MaxDepth"/> levels (counting $ref hops), and schemas whose grammar exceeds
/// <see cref="Checking.GbnfLimits"/>.
/// Practical limits: integers have at most 16 digits; \u escapes exclude surrogates; whitespace between tokens is
/// one space or up to two newlines plus 20 blanks.
/// </remarks>
public static class JsonGrammar
{
    /// <summary>Ollama's <c>format: "json"</c>: any JSON object.</summary>
    public static string ForAnyJson() => SchemaConverter.AnyObject();

    /// <summary>A grammar accepting the JSON documents valid for <paramref name="schema"/> (within the subset above).</summary>
    public static string FromSchema(JsonElement schema) => new SchemaConverter(schema).Convert();
}
