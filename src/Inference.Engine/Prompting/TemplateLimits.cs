namespace Inference.Engine.Prompting;

/// <summary>Which bound a template render ran into.</summary>
public enum TemplateLimit
{
    Iterations,
    /// <summary>The text written passed the render's output limit.</summary>
    Output,
    /// <summary>A function built a string longer than <see cref="TemplateLimits.MaxOutputChars"/>.</summary>
    Value,
    Time,
}

/// <summary>
/// What one render of a template may cost. Templates come from clients (/api/create, a request's
/// "template") and from model files, so a render is bounded like any other input: in loop
/// iterations, in the characters it writes or builds, and in time. (Recursion needs no bound of
/// its own: define, template and block are refused by the parser, and nesting is limited there.)
/// </summary>
public static class TemplateLimits
{
    /// <summary>range iterations in one render, all loops together (a chat template runs one per message, tool and call).</summary>
    public const long MaxIterations = 1_000_000;

    /// <summary>Characters one render may write, and that any one value (printf, print, ...) may hold.</summary>
    public const int MaxOutputChars = 16 * 1024 * 1024;

    /// <summary>Time one render may take.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(2);
}

/// <summary>A render stopped at one of <see cref="TemplateLimits"/>; the request fails with a 400 naming it.</summary>
public sealed class TemplateLimitException(TemplateLimit limit, string message, int line, int column)
    : Exception($"template: {line}:{column}: {message}")
{
    public TemplateLimit Limit { get; } = limit;
}
