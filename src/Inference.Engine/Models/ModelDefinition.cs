using Inference.Engine.Gguf;
using Inference.Engine.Store;

namespace Inference.Engine.Models;

/// <summary>Everything the server knows about an installed model before loading it.</summary>
public sealed record ModelDefinition(
    ModelName Name,
    StoredModel Stored,
    string ModelPath,
    GgufFile Gguf,
    string? Template,
    string? System,
    ModelOptions Parameters,
    string? License,
    IReadOnlyList<Prompting.ChatMessage> Messages)
{
    /// <summary>The key loaded models are tracked by: one runner per installed name.</summary>
    public string Key => Name.ToString();
    public string DisplayName => Name.DisplayShortest();
}
