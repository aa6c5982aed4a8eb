namespace Inference.Engine.Prompting;

/// <summary>
/// Ollama's <c>think</c> setting once resolved for a model: whether thinking is on and at which level. Templates
/// see it as <c>.Think</c>, <c>.ThinkLevel</c> and <c>.IsThinkSet</c>; when it is on, the output is split into
/// reasoning and content by <see cref="Generation.ThinkingSplitter"/>.
/// </summary>
/// <param name="Enabled">think: true or a level.</param>
/// <param name="Level">"low", "medium", "high" or "max" ("medium" for true, as Ollama's ThinkValue.String); "" when off.</param>
public sealed record ThinkValue(bool Enabled, string Level)
{
    /// <summary>The levels Ollama accepts besides true and false.</summary>
    public static readonly IReadOnlySet<string> Levels = new HashSet<string>(StringComparer.Ordinal) { "low", "medium", "high", "max" };

    public static ThinkValue On { get; } = new(true, "medium");

    public static ThinkValue Off { get; } = new(false, "");

    public static ThinkValue AtLevel(string level) => new(true, level);
}
