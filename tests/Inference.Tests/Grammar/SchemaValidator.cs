using System.Text.Json;
using Inference.SchemaCheck;

namespace Inference.Tests.Grammar;

/// <summary>
/// "Valid for the schema per JsonSchema.Net" for the tests (see <see cref="SchemaOracle"/>, the one place that
/// calls the library, shared with benchmarks/Inference.SchemaCheck): draft 2020-12 by default, formats asserted,
/// $defs/definitions refs resolved. Returns null when valid, else every failing location with its message.
/// </summary>
public sealed class SchemaValidator(JsonElement root)
{
    private readonly SchemaOracle _oracle = new(root);

    public string? Validate(JsonElement value) => _oracle.Validate(value);
}
