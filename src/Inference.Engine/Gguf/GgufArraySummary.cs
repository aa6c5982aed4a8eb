namespace Inference.Engine.Gguf;

/// <summary>
/// Stands in <see cref="GgufFile.Metadata"/> for an array read as a summary (tokenizer tokens, scores, merges,
/// token types): its element type and length, without its values, which a cached header must not hold
/// (a 128K-token vocabulary is hundreds of thousands of boxed values). <see cref="GgufFile.Read(string)"/> reads them.
/// </summary>
public sealed record GgufArraySummary(GgufValueType ElementType, long Count);
