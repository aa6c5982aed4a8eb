namespace Inference.Engine.Prompting;

/// <summary>A chat turn as the engine sees it (roles: system, user, assistant, tool).</summary>
public sealed record ChatMessage(string Role, string Content)
{
    public static readonly IReadOnlySet<string> KnownRoles = new HashSet<string> { "system", "user", "assistant", "tool" };
}
