using System.Text.Json;
using Json.Schema;

namespace Inference.Tests.Grammar;

/// <summary>
/// The tests' JSON Schema oracle: "valid for the schema per JsonSchema.Net", a maintained validator written by
/// other people, so the converter is never judged by code written alongside it. Draft 2020-12 unless the schema
/// names another with "$schema"; `format` is asserted (date, time, date-time, uuid, email, uri...), not just an
/// annotation; "$ref" into "$defs" and "definitions" resolves in the schema itself.
/// Returns null when valid, else every failing location with its message.
/// </summary>
public sealed class SchemaValidator
{
    private readonly JsonSchema _schema;

    public SchemaValidator(JsonElement root) => _schema = Build(root);

    /// <summary>Builds once per schema; throws for a document JsonSchema.Net does not accept as a schema.</summary>
    public static JsonSchema Build(JsonElement root) =>
        // A registry per schema: two corpus schemas with the same $id must not see each other.
        JsonSchema.Build(root, new BuildOptions { Dialect = Dialect.Draft202012, SchemaRegistry = new SchemaRegistry() });

    public string? Validate(JsonElement value)
    {
        var results = _schema.Evaluate(value, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (results.IsValid) return null;
        var errors = (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is "" ? "$" : d.InstanceLocation.ToString())}: {e.Key}: {e.Value}"))
            .ToList();
        return errors.Count == 0 ? "invalid (JsonSchema.Net gave no message)" : string.Join("; ", errors.Distinct());
    }
}
