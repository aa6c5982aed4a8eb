using System.Text;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Scheduling;
using LLama.Native;

namespace Inference.Engine.Generation;

/// <summary>
/// Ollama's rules for <c>think</c> in one place: which models can think, what an unset think means for them, and
/// when the output starts inside the reasoning (server/routes.go, GenerateHandler and ChatHandler).
/// </summary>
public static class ThinkingSetup
{
    // The prompt's end is decoded to look for the opening tag; a tag is a handful of tokens even in a byte-level vocabulary.
    private const int TailTokens = 32;

    /// <summary>
    /// The think setting a request runs with. A model that can think thinks unless asked not to; asking one that
    /// cannot for thinking is Ollama's 400 ("\"name\" does not support thinking"), while think: false is accepted.
    /// </summary>
    /// <param name="requestedName">The model as the request named it (Ollama quotes the request's name).</param>
    public static ThinkValue? Resolve(ModelDefinition model, string requestedName, ThinkValue? requested)
    {
        if (model.Prepared.ThinkingTags is not null) return requested ?? ThinkValue.On;
        if (requested is { Enabled: true })
            throw new UnsupportedByModelException($"\"{requestedName}\" does not support thinking");
        return requested;
    }

    /// <summary>The splitter for a generation's output, or null when thinking is off (the output is all content).</summary>
    public static ThinkingSplitter? SplitterFor(GenerationInput input, bool promptOpensThinking)
    {
        if (input.Think is not { Enabled: true } || input.Model.Prepared.ThinkingTags is not { } tags) return null;
        var splitter = new ThinkingSplitter(tags);
        // A template that ends the prompt with the opening tag makes the model start inside its reasoning.
        if (promptOpensThinking) splitter.Add(tags.Opening);
        return splitter;
    }

    /// <summary>Whether the prompt, trailing whitespace aside, ends with the opening tag (only asked when thinking is on).</summary>
    internal static bool PromptOpensThinking(GenerationInput input, ModelRunner runner, LLamaToken[] prompt)
    {
        if (input.Think is not { Enabled: true } || input.Model.Prepared.ThinkingTags is not { } tags) return false;
        var bytes = new List<byte>();
        Span<byte> buffer = stackalloc byte[256];
        foreach (var token in prompt.AsSpan(Math.Max(0, prompt.Length - TailTokens)))
        {
            int n = (int)runner.Model.TokenToSpan(token, buffer, 0, special: true);
            if (n > buffer.Length) return false; // no tag piece is this long
            foreach (var b in buffer[..n]) bytes.Add(b);
        }
        return Encoding.UTF8.GetString([.. bytes]).TrimEnd().EndsWith(tags.Opening, StringComparison.Ordinal);
    }
}
