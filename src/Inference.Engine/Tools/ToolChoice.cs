namespace Inference.Engine.Tools;

/// <summary>
/// How a response may use the tools: free to answer or call (Ollama always; OpenAI's "auto"), required to
/// call (OpenAI's "required"), or required to call one named function. <see cref="MaxCalls"/> bounds the calls
/// in one response (1 for OpenAI's parallel_tool_calls false); a bound also keeps a weak model that never
/// stops calling from running to num_predict.
/// </summary>
public sealed record ToolChoice(bool Required = false, string? Function = null, int MaxCalls = ToolChoice.DefaultMaxCalls)
{
    public const int DefaultMaxCalls = 8;

    public static readonly ToolChoice Auto = new();

    /// <summary>The response must be calls (no text).</summary>
    public bool Forced => Required || Function is not null;
}
