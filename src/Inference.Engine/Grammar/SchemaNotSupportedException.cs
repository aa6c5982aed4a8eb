namespace Inference.Engine.Grammar;

/// <summary>
/// A schema the GBNF converter refuses (a 400): it is not valid JSON Schema, no document matches it, a $ref
/// recurs before any text is written, or its grammar would exceed the bounds llama.cpp is kept within.
/// Keywords a grammar cannot enforce are not refused: the converter ignores them (see <see cref="JsonGrammar"/>).
/// </summary>
public sealed class SchemaNotSupportedException : Exception
{
    public SchemaNotSupportedException(string keyword, string path, string detail)
        : base($"JSON Schema keyword '{keyword}' at '{path}' is not supported: {detail}")
    {
        Keyword = keyword;
        Path = path;
    }

    /// <summary>The offending keyword, e.g. "minLength".</summary>
    public string Keyword { get; }

    /// <summary>JSON-pointer-style location of the schema that holds it, e.g. "#/properties/name".</summary>
    public string Path { get; }
}
