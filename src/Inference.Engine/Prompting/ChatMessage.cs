namespace Inference.Engine.Prompting;

/// <summary>A chat turn as the engine sees it (roles: system, user, assistant, tool).</summary>
public sealed record ChatMessage(
    [property: System.Text.Json.Serialization.JsonPropertyName("role")] string Role,
    [property: System.Text.Json.Serialization.JsonPropertyName("content")] string Content)
{
    public static readonly IReadOnlySet<string> KnownRoles = new HashSet<string> { "system", "user", "assistant", "tool" };
}
