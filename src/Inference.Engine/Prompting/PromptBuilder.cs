using System.Text;
using Inference.Engine.Models;
using Inference.Engine.Tools;
using LLama;
using LLama.Native;

namespace Inference.Engine.Prompting;

/// <summary>Where a model's prompt format comes from, in order of precedence.</summary>
public enum TemplateSource { Request, Manifest, GgufChatTemplate, Fallback }

/// <summary>
/// Turns chat messages (or a generate prompt) into the model's prompt text. Precedence: a template
/// in the request, then the manifest's template layer (Ollama's Go-template syntax), then the GGUF's
/// tokenizer.chat_template applied by llama.cpp, then <see cref="FallbackTemplate"/>.
/// </summary>
public static class PromptBuilder
{
    /// <summary>
    /// For models with no template (base models such as stories260K): the system text, a blank
    /// line, then the prompt, so a generate prompt is continued exactly as written (Ollama's own
    /// default is "{{ .Prompt }}"; this adds the system part).
    /// </summary>
    public const string FallbackTemplate = "{{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}{{ .Response }}";

    // Stands in for the response being generated; the rendered text is cut where it appears.
    private const string ResponseMarker = "\u0001RESPONSE\u0001";

    /// <summary>The model's prompt format: where it comes from and its text (worked out once, in <see cref="PreparedModel"/>).</summary>
    public static (TemplateSource Source, string Text) Describe(ModelDefinition model) =>
        (model.Prepared.TemplateSource, model.Prepared.TemplateText);

    /// <summary>
    /// Renders messages (and the tools the model may call) as the prompt for the assistant's next turn, with
    /// the request's template when given (parsed once by the caller), else the model's (parsed once per manifest).
    /// A prompt longer than <paramref name="maxChars"/> throws <see cref="TemplateLimitException"/>
    /// (<see cref="TemplateLimit.Output"/>) as soon as it passes it, without building the rest.
    /// </summary>
    /// <param name="think">The request's think setting as resolved for the model (.Think, .ThinkLevel, .IsThinkSet); null = not set.</param>
    public static string Render(ModelDefinition model, SafeLlamaModelHandle handle, IReadOnlyList<ChatMessage> messages,
        GoTemplate? requestTemplate = null, IReadOnlyList<ToolDefinition>? tools = null, int maxChars = TemplateLimits.MaxOutputChars,
        ThinkValue? think = null)
    {
        if (requestTemplate is not null) return RenderGo(requestTemplate, messages, tools, maxChars, think);
        var prepared = model.Prepared;
        if (prepared.TemplateSource == TemplateSource.GgufChatTemplate && TryApplyNative(handle, messages, maxChars) is { } native) return native;
        return RenderGo(prepared.PromptTemplate, messages, tools, maxChars, think);
    }

    /// <summary>
    /// The conversation as the model sees it, as Ollama builds it: the model's own messages (from
    /// its manifest) first, then the request's, and the model's default system prompt in front when
    /// neither has a system message.
    /// </summary>
    public static IReadOnlyList<ChatMessage> Conversation(ModelDefinition model, IReadOnlyList<ChatMessage> messages, string? system = null)
    {
        IReadOnlyList<ChatMessage> all = model.Messages.Count == 0 ? messages : [.. model.Messages, .. messages];
        system ??= model.System;
        return string.IsNullOrEmpty(system) || all.Any(m => m.Role == "system")
            ? all
            : [new ChatMessage("system", system), .. all];
    }

    private static string? TryApplyNative(SafeLlamaModelHandle handle, IReadOnlyList<ChatMessage> messages, int maxChars)
    {
        // llama.cpp's formats copy every message once plus a few markers per message: far more text
        // than maxChars can only give a longer prompt, so it is refused before llama.cpp copies it.
        long text = 0;
        foreach (var m in messages) text += m.Content.Length;
        if (text > maxChars)
            throw new TemplateLimitException(TemplateLimit.Output, $"the output would exceed {maxChars} characters", 1, 1);
        try
        {
            var template = new LLamaTemplate(handle, strict: true) { AddAssistant = true };
            foreach (var m in messages) template.Add(m.Role, m.Content);
            return Encoding.UTF8.GetString(template.Apply());
        }
        catch (Exception)
        {
            // llama.cpp recognises a fixed set of chat formats; anything else gets the fallback.
            return null;
        }
    }

    /// <summary>
    /// Renders a Go template. Chat templates (.Messages) also get the tools and each message's tool calls and
    /// tool-result fields, in the shapes Ollama gives them; legacy templates only see System/Prompt/Response.
    /// </summary>
    public static string RenderGo(GoTemplate template, IReadOnlyList<ChatMessage> messages, IReadOnlyList<ToolDefinition>? tools = null,
        int maxChars = TemplateLimits.MaxOutputChars, ThinkValue? think = null)
    {
        if (template.UsesMessages)
        {
            return template.Render(new TemplateData
            {
                System = messages.Where(m => m.Role == "system").Select(m => m.Content).LastOrDefault(),
                Messages = messages.Select(m => new TemplateMessage(m.Role, m.Content,
                    m.ToolCalls is { Count: > 0 } calls ? calls.Select(c => (object)ToolTemplateValues.Call(c)).ToList() : null,
                    m.ToolName, m.ToolCallId, m.Thinking)).ToList(),
                // No tools is nil (not an empty list), so "{{ if .Tools }}" is false as in Ollama.
                Tools = tools is { Count: > 0 } ? tools.Select(t => (object)ToolTemplateValues.Tool(t.Source)).ToList() : null,
                Think = think?.Enabled ?? false, ThinkLevel = think?.Level, IsThinkSet = think is not null,
            }, maxChars);
        }
        return RenderLegacy(template, messages, maxChars, think);
    }

    /// <summary>
    /// Ollama's rendering for templates without .Messages: each completed user/assistant turn is
    /// rendered with .System/.Prompt/.Response; the last turn is cut where .Response would appear.
    /// </summary>
    private static string RenderLegacy(GoTemplate template, IReadOnlyList<ChatMessage> messages, int maxChars, ThinkValue? think)
    {
        bool thinkOn = think?.Enabled ?? false, thinkSet = think is not null;
        var output = new StringBuilder();
        string system = "", prompt = "", response = "";
        // Each turn may only write what the earlier turns left of maxChars.
        void Flush()
        {
            output.Append(template.Render(new TemplateData
            {
                System = system, Prompt = prompt, Response = response, Think = thinkOn, ThinkLevel = think?.Level, IsThinkSet = thinkSet,
            }, maxChars - output.Length));
            system = prompt = response = "";
        }

        foreach (var m in messages)
        {
            switch (m.Role)
            {
                case "system":
                    if (prompt.Length > 0 || response.Length > 0) Flush();
                    system = m.Content;
                    break;
                case "user":
                case "tool":
                    if (response.Length > 0) Flush();
                    prompt = m.Content;
                    break;
                case "assistant":
                    response = m.Content;
                    break;
            }
        }

        // The marker and what follows it are cut off, so they may pass the limit by the marker's length.
        var last = template.Render(new TemplateData
        {
            System = system, Prompt = prompt, Response = ResponseMarker, Think = thinkOn, ThinkLevel = think?.Level, IsThinkSet = thinkSet,
        },
            maxChars - output.Length + ResponseMarker.Length);
        int cut = last.IndexOf(ResponseMarker, StringComparison.Ordinal);
        output.Append(cut >= 0 ? last[..cut] : last);
        return output.ToString();
    }
}
