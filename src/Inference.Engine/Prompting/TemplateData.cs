namespace Inference.Engine.Prompting;

/// <summary>
/// The values a prompt template is rendered with; mirrors the map Ollama passes to its templates.
/// Null strings render as "" (Ollama's values are Go strings, whose zero value is "").
/// </summary>
public sealed class TemplateData
{
    public string? System { get; init; }
    public string? Prompt { get; init; }
    public string? Response { get; init; }
    public string? Suffix { get; init; }
    public IReadOnlyList<TemplateMessage> Messages { get; init; } = [];

    /// <summary>
    /// Tool definitions. Elements are usually dictionaries (string keys) or <see cref="System.Text.Json.JsonElement"/>s,
    /// so that <c>.Function.Name</c> style field access works; null behaves like Go's nil (false, empty range).
    /// </summary>
    public IReadOnlyList<object>? Tools { get; init; }

    /// <summary>Ollama's <c>.Think</c>: thinking is on for this request (asked for, or the default of a thinking model).</summary>
    public bool Think { get; init; }

    /// <summary>Ollama's <c>.ThinkLevel</c>: "low", "medium" or "high" ("medium" for think: true); "" when thinking is off.</summary>
    public string? ThinkLevel { get; init; }

    /// <summary>Ollama's <c>.IsThinkSet</c>: the request (or the model's default) set think at all.</summary>
    public bool IsThinkSet { get; init; }
}

/// <summary>
/// One chat message as templates see it: <c>.Role</c>, <c>.Content</c>, <c>.ToolCalls</c>, and for tool
/// results <c>.ToolName</c> and <c>.ToolCallID</c> (Go's spelling, as in Ollama's message type), and for an
/// assistant's earlier turns the reasoning it wrote, <c>.Thinking</c>.
/// </summary>
public sealed record TemplateMessage(string Role, string Content, IReadOnlyList<object>? ToolCalls = null,
    string? ToolName = null, string? ToolCallId = null, string? Thinking = null);

/// <summary>A syntax error in a template; <see cref="Line"/> and <see cref="Column"/> are 1-based.</summary>
public sealed class TemplateParseException(string message, int line, int column)
    : Exception($"template: {line}:{column}: {message}")
{
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Reason { get; } = message;
}

/// <summary>An error while executing a template (bad field access, wrong argument types, ...).</summary>
public sealed class TemplateRenderException(string message, int line, int column)
    : Exception($"template: {line}:{column}: {message}")
{
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Reason { get; } = message;
}
