using System.Text.Json;
using Json.Schema;

namespace Inference.SchemaCheck;

/// <summary>
/// "Valid for the schema per JsonSchema.Net": a maintained validator written by other people, so the schema
/// converter is never judged by code written alongside it. Draft 2020-12 unless the schema names another with
/// "$schema"; `format` is asserted (date, time, date-time, uuid, email, uri...), not just an annotation;
/// "$ref" into "$defs" and "definitions" resolves in the schema itself; string lengths count code points as the
/// specification says (see <see cref="CodePointLengths"/>). The tests' SchemaValidator wraps this.
/// </summary>
public sealed class SchemaOracle
{
    private readonly JsonSchema _schema;

    /// <summary>Throws (JsonSchemaException and kin) for a document JsonSchema.Net does not accept as a schema.</summary>
    public SchemaOracle(JsonElement schema) =>
        // A registry per schema: two corpus schemas with the same $id must not see each other.
        _schema = JsonSchema.Build(JsonSerializer.SerializeToElement(CodePointLengths.Rewrite(schema)),
            new BuildOptions { Dialect = DialectOf(schema), SchemaRegistry = new SchemaRegistry() });

    /// <summary>
    /// The dialect "$schema" names, else 2020-12. Chosen here because JsonSchema.Net 8 honours "$schema" only when it
    /// is the first key, and zod 3 (through openai and zod-to-json-schema) writes it last.
    /// </summary>
    private static Dialect DialectOf(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$schema", out var uri) && uri.ValueKind == JsonValueKind.String
            ? uri.GetString()!.TrimEnd('#') switch
            {
                "http://json-schema.org/draft-06/schema" => Dialect.Draft06,
                "http://json-schema.org/draft-07/schema" => Dialect.Draft07,
                "https://json-schema.org/draft/2019-09/schema" => Dialect.Draft201909,
                _ => Dialect.Draft202012,
            }
            : Dialect.Draft202012;

    /// <summary>Null when valid, else every failing location with JsonSchema.Net's message.</summary>
    public string? Validate(JsonElement value)
    {
        var results = _schema.Evaluate(value, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (results.IsValid) return null;
        var errors = (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{Location(d)}: {e.Key}: {e.Value}"))
            .Distinct()
            .ToList();
        return errors.Count == 0 ? "invalid (JsonSchema.Net gave no message)" : string.Join("; ", errors);
    }

    /// <summary>Null when the text is one JSON document valid for the schema, else why not.</summary>
    public string? ValidateText(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return Validate(document.RootElement);
        }
        catch (JsonException e)
        {
            return "not JSON: " + e.Message;
        }
    }

    private static string Location(EvaluationResults d) => d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/";
}
