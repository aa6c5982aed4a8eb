using Inference.Engine.Gguf;
using Inference.Engine.Prompting;
using Inference.Engine.Tools;

namespace Inference.Engine.Models;

/// <summary>
/// What every request needs from an installed model, worked out once per manifest (the same manifest under
/// two names shares one): the layers' text and parameters, a summary of the GGUF header without the
/// tokenizer's arrays, the parsed prompt template, the tool-call format and the capabilities.
/// <see cref="ModelCatalog"/> keeps these by manifest digest and replaces them when the manifest changes.
/// Immutable after construction, except for the lazily computed parts, which are computed once.
/// </summary>
public sealed class PreparedModel
{
    private readonly Lazy<GoTemplate> _promptTemplate;
    private readonly Lazy<GoTemplate?> _toolTemplate;
    private readonly Lazy<ToolCallFormat?> _toolCallFormat;
    private readonly Lazy<ThinkingTags?> _thinkingTags;

    public PreparedModel(string manifestDigest, string modelPath, GgufFile gguf, string? template, string? system,
        ModelOptions parameters, string? license, IReadOnlyList<ChatMessage> messages, IReadOnlyList<AdapterFile>? adapters = null)
    {
        Adapters = adapters ?? [];
        ManifestDigest = manifestDigest;
        ModelPath = modelPath;
        Gguf = gguf;
        Template = template;
        System = system;
        Parameters = parameters;
        License = license;
        Messages = messages;
        (TemplateSource, TemplateText) =
            template is { Length: > 0 } t ? (TemplateSource.Manifest, t)
            : gguf.ChatTemplate is { Length: > 0 } g ? (TemplateSource.GgufChatTemplate, g)
            : (TemplateSource.Fallback, PromptBuilder.FallbackTemplate);
        // Lazy (thread-safe) keeps a parse error too: a broken template fails each request the same way,
        // as it did when each request parsed it, without parsing it again.
        _promptTemplate = new(() => GoTemplate.Parse(TemplateSource == TemplateSource.Manifest ? TemplateText : PromptBuilder.FallbackTemplate));
        _toolTemplate = new(ParseToolTemplate);
        _toolCallFormat = new(() => ToolTemplate is { } tools ? ToolCallFormat.Infer(tools) : null);
        _thinkingTags = new(InferThinkingTags);
        var capabilities = new List<string> { "completion" };
        if (ToolTemplate is not null) capabilities.Add("tools");
        if (gguf.HasFillInTheMiddleTokens) capabilities.Add("insert");
        if (ThinkingTags is not null) capabilities.Add("thinking");
        Capabilities = capabilities;
    }

    /// <summary>Hex SHA-256 of the manifest file these were prepared from.</summary>
    public string ManifestDigest { get; }

    public string ModelPath { get; }

    /// <summary>The GGUF header as a summary: arrays longer than <see cref="GgufFile.SummaryArrayLimit"/> are <see cref="GgufArraySummary"/>.</summary>
    public GgufFile Gguf { get; }

    /// <summary>The manifest's template layer (Ollama's Go-template syntax), if any.</summary>
    public string? Template { get; }

    public string? System { get; }

    public ModelOptions Parameters { get; }

    public string? License { get; }

    /// <summary>The LoRA adapters (adapter layers) llama.cpp applies over the weights, checked by <see cref="LoraAdapterCheck"/>.</summary>
    public IReadOnlyList<AdapterFile> Adapters { get; }

    /// <summary>The conversation the model starts with (its messages layer).</summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>Where the prompt format comes from (see <see cref="PromptBuilder"/>), and its text.</summary>
    public TemplateSource TemplateSource { get; }

    public string TemplateText { get; }

    /// <summary>
    /// The Go template prompts are rendered with: the manifest's, or <see cref="PromptBuilder.FallbackTemplate"/>
    /// (also behind a GGUF chat template, for when llama.cpp does not know its format). Throws the
    /// <see cref="TemplateParseException"/> of a broken manifest template.
    /// </summary>
    public GoTemplate PromptTemplate => _promptTemplate.Value;

    /// <summary>
    /// The model's template when it can show tools to the model (it refers to .Tools), else null. As in Ollama,
    /// only such models support tools; a GGUF chat template is applied by llama.cpp, which is given no tools.
    /// </summary>
    public GoTemplate? ToolTemplate => _toolTemplate.Value;

    /// <summary>How the model writes tool calls, learned from <see cref="ToolTemplate"/> on first use; null without one.</summary>
    public ToolCallFormat? ToolCallFormat => _toolCallFormat.Value;

    /// <summary>The tags the model writes its reasoning in; null when its template shows no reasoning (it cannot think).</summary>
    public ThinkingTags? ThinkingTags => _thinkingTags.Value;

    /// <summary>
    /// Ollama's capabilities: "completion", "tools" when the template shows tools, "insert" with fill-in-the-middle tokens,
    /// "thinking" when the template shows reasoning (<see cref="ThinkingTags"/>).
    /// </summary>
    public IReadOnlyList<string> Capabilities { get; }

    private ThinkingTags? InferThinkingTags()
    {
        switch (TemplateSource)
        {
            case TemplateSource.Manifest:
                try
                {
                    return Prompting.ThinkingTags.Infer(PromptTemplate);
                }
                catch (TemplateParseException)
                {
                    return null;
                }
            case TemplateSource.GgufChatTemplate:
                return Prompting.ThinkingTags.InChatTemplate(TemplateText);
            default:
                return null;
        }
    }

    private GoTemplate? ParseToolTemplate()
    {
        if (TemplateSource != TemplateSource.Manifest) return null;
        try
        {
            var template = PromptTemplate;
            return template.UsesTools ? template : null;
        }
        catch (TemplateParseException)
        {
            return null;
        }
    }
}
