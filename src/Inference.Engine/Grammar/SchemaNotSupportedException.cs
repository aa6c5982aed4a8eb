namespace Inference.Engine.Grammar;

/// <summary>
/// A JSON Schema uses a construct the GBNF converter cannot enforce. Thrown rather than ignored so that a
/// structured-output request never silently yields documents that violate the caller's schema.
/// </summary>
public sealed class SchemaNotSupportedException : Exception
{
    public SchemaNotSupportedException(string keyword, string path, string detail)
        : base($"JSON Schema keyword '{keyword}' at '{path}' is not supported: {detail}")
    {
        Keyword = keyword;
        Path = path;
    }

    /// <summary>The offending keyword, e.g. "pattern".</summary>
    public string Keyword { get; }

    /// <summary>JSON-pointer-style location of the schema that holds it, e.g. "#/properties/name".</summary>
    public string Path { get; }
}
