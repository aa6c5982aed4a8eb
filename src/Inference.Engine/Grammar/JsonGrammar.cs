using System.Text.Json;

namespace Inference.Engine.Grammar;

/// <summary>
/// GBNF grammars (llama.cpp's grammar syntax) for structured outputs: Ollama's <c>format</c> and OpenAI's
/// <c>response_format</c>. The grammar starts at rule <c>root</c> and ends right after the JSON document,
/// so llama.cpp only lets the model emit end-of-generation once the document is complete.
/// </summary>
/// <remarks>
/// Supported: type (incl. arrays of types), properties/required (fixed order: required first, then optional;
/// undeclared keys are never generated), additionalProperties (false, or a schema when no properties are
/// declared; then a string-typed propertyNames may restrict the keys and min/maxProperties the count), items/minItems/maxItems, enum/const, minLength/maxLength, format date/time/date-time/uuid
/// (other formats are annotations and ignored), minimum 0 or 1 on integers, anyOf/oneOf (oneOf exclusivity
/// is not enforced), local $ref (#, #/$defs/..., #/definitions/...; recursion through objects and arrays, as in
/// trees and linked lists). Counts (minLength, maxItems, maxProperties...) up to 2147483647 are enforced exactly
/// (see <see cref="GbnfRepetition"/>). Refused as well: a $ref that recurs before any text is written (left
/// recursion) or admits no finite document, schemas nested more than <see cref="SchemaConverter.MaxDepth"/> levels
/// (counting $ref hops), and schemas whose grammar exceeds <see cref="Checking.GbnfLimits"/>.
/// Rejected with <see cref="SchemaNotSupportedException"/>: pattern (ignoring it would let outputs break
/// the schema; a regex-to-GBNF translation is future work), numeric ranges (maximum, exclusive*,
/// multipleOf, other minimums), allOf/not/if-then-else, patternProperties, propertyNames, tuple items and
/// prefixItems, contains, uniqueItems: true, additionalProperties next to properties, remote $ref, and
/// any other keyword that constrains values.
/// Practical limits: numbers have at most 16 integer and 16 fraction digits; \u escapes exclude surrogates;
/// whitespace between tokens is one space or up to two newlines plus 20 blanks.
/// </remarks>
public static class JsonGrammar
{
    /// <summary>Ollama's <c>format: "json"</c>: any JSON object.</summary>
    public static string ForAnyJson() => SchemaConverter.AnyObject();

    /// <summary>A grammar accepting the JSON documents valid for <paramref name="schema"/> (within the subset above).</summary>
    public static string FromSchema(JsonElement schema) => new SchemaConverter(schema).Convert();
}
