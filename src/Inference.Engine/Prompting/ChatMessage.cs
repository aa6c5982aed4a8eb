using System.Text.Json.Serialization;
using Inference.Engine.Tools;

namespace Inference.Engine.Prompting;

/// <summary>A chat turn as the engine sees it (roles: system, user, assistant, tool).</summary>
public sealed record ChatMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content)
{
    public static readonly IReadOnlySet<string> KnownRoles = new HashSet<string> { "system", "user", "assistant", "tool" };

    // The tool fields below only come from requests; they are not part of the messages a model's manifest
    // stores (role and content), so they are left out of its JSON.

    /// <summary>Calls an assistant message made (rendered by templates as <c>.ToolCalls</c>).</summary>
    [JsonIgnore] public IReadOnlyList<ToolCall>? ToolCalls { get; init; }

    /// <summary>For a tool message: the function whose result it is (<c>.ToolName</c>).</summary>
    [JsonIgnore] public string? ToolName { get; init; }

    /// <summary>For a tool message: the id of the call it answers (<c>.ToolCallID</c>).</summary>
    [JsonIgnore] public string? ToolCallId { get; init; }

    /// <summary>For an assistant message: the reasoning it wrote before its content (<c>.Thinking</c>).</summary>
    [JsonIgnore] public string? Thinking { get; init; }
}
