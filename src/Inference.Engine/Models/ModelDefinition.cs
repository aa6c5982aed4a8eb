using Inference.Engine.Gguf;
using Inference.Engine.Store;

namespace Inference.Engine.Models;

/// <summary>An installed model under one name: its manifest as stored, and what was prepared from it (shared by every name with that manifest).</summary>
public sealed record ModelDefinition(ModelName Name, StoredModel Stored, PreparedModel Prepared)
{
    /// <summary>The key loaded models are tracked by: one runner per installed name.</summary>
    public string Key => Name.ToString();
    public string DisplayName => Name.DisplayShortest();

    public string ModelPath => Prepared.ModelPath;
    /// <summary>The GGUF header without its large arrays (see <see cref="PreparedModel.Gguf"/>).</summary>
    public GgufFile Gguf => Prepared.Gguf;
    public string? Template => Prepared.Template;
    public string? System => Prepared.System;
    public ModelOptions Parameters => Prepared.Parameters;
    public string? License => Prepared.License;
    public IReadOnlyList<Prompting.ChatMessage> Messages => Prepared.Messages;
    public IReadOnlyList<AdapterFile> Adapters => Prepared.Adapters;
}
