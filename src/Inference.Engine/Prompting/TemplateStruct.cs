namespace Inference.Engine.Prompting;

/// <summary>
/// A Go struct as templates see it. Fields are read by their Go names (<c>.Function.Name</c>); printing the
/// struct, or passing it to <c>json</c>, gives JSON keyed by the fields' json tag names, leaving out
/// "omitempty" fields whose value is empty. Ollama's tool types behave this way (their String methods
/// marshal JSON), which is what lets a template write <c>{{ .Function }}</c> to show a tool's definition.
/// </summary>
public sealed class TemplateStruct(string typeName, IReadOnlyList<TemplateField> fields)
{
    /// <summary>The Go type name used in error messages, e.g. "templateTool".</summary>
    public string TypeName { get; } = typeName;

    public IReadOnlyList<TemplateField> Fields { get; } = fields;

    /// <summary>A field by its Go name (case-sensitive, as in Go).</summary>
    public bool TryGet(string name, out object? value)
    {
        foreach (var field in Fields)
        {
            if (field.Name == name)
            {
                value = field.Value;
                return true;
            }
        }
        value = null;
        return false;
    }

    public override string ToString() => GoValues.Json(this);
}

/// <summary>
/// One struct field: its Go name, its value, and its json tag (null = no tag, so JSON uses the Go name,
/// as encoding/json does); <paramref name="OmitEmpty"/> is the tag's omitempty option.
/// </summary>
public sealed record TemplateField(string Name, object? Value, string? JsonName = null, bool OmitEmpty = false);
