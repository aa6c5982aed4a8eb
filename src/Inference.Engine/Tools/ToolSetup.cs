using Inference.Engine.Generation;
using Inference.Engine.Grammar;
using Inference.Engine.Models;
using Inference.Engine.Prompting;

namespace Inference.Engine.Tools;

/// <summary>
/// What a chat request with tools needs from its model: the tools for the template, the grammar that keeps
/// calls well-formed, and a parser that reads them back out of the generated text.
/// </summary>
public sealed class ToolSetup
{
    private ToolSetup(IReadOnlyList<ToolDefinition> tools, ToolCallFormat format, string grammar, string? grammarTrigger)
    {
        Tools = tools;
        Format = format;
        Grammar = grammar;
        GrammarTrigger = grammarTrigger;
    }

    public IReadOnlyList<ToolDefinition> Tools { get; }

    public ToolCallFormat Format { get; }

    /// <summary>GBNF built only from the tools' names and schemas by <see cref="ToolCallGrammar"/> (never request text as grammar).</summary>
    public string Grammar { get; }

    /// <summary>When the model may answer in text: the trigger after which the grammar is dropped if the output did not begin with it.</summary>
    public string? GrammarTrigger { get; }

    public ToolCallParser CreateParser() => new(Format, Tools.Select(t => t.Name));

    /// <summary>
    /// Throws <see cref="UnsupportedByModelException"/> with Ollama's message ("&lt;model&gt; does not support
    /// tools") when the model's template cannot show tools to it.
    /// </summary>
    public static ToolSetup For(ModelDefinition model, IReadOnlyList<ToolDefinition> tools, ToolChoice choice)
    {
        // Learned from the template once per manifest (PreparedModel), not per request.
        if (model.Prepared.ToolCallFormat is not { } format)
            throw new UnsupportedByModelException($"{model.Name} does not support tools");
        // A named function restricts what may be called; the template still shows every tool, as OpenAI does.
        var callable = choice.Function is { } name ? tools.Where(t => t.Name == name).ToList() : tools;
        var grammar = ToolCallGrammar.Build(format, callable, allowText: !choice.Forced, choice.MaxCalls);
        return new ToolSetup(tools, format, grammar, choice.Forced ? null : format.Trigger);
    }
}
