using System.Text.Json;
using Inference.Engine.Prompting;

namespace Inference.Server.Http;

/// <summary>
/// How requests ask for thinking: Ollama's <c>think</c> (true, false or a level) and, on /v1, OpenAI's
/// <c>reasoning_effort</c> or <c>reasoning: {"effort"}</c>, mapped to think as Ollama's compatibility layer does
/// (openai/openai.go, thinkFromReasoningEffort). Which models may think is decided by the engine's ThinkingSetup.
/// </summary>
public static class ThinkOption
{
    private const string Allowed = "\"high\", \"medium\", \"low\", \"max\", true, or false";

    /// <summary>Ollama's think; null when absent. The messages are Ollama's.</summary>
    public static bool TryRead(JsonElement? think, out ThinkValue? value, out string? error)
    {
        value = null;
        error = null;
        switch (think)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                return true;
            case { ValueKind: JsonValueKind.True }:
                value = ThinkValue.On;
                return true;
            case { ValueKind: JsonValueKind.False }:
                value = ThinkValue.Off;
                return true;
            case { ValueKind: JsonValueKind.String } s when ThinkValue.Levels.Contains(s.GetString()!):
                value = ThinkValue.AtLevel(s.GetString()!);
                return true;
            case { ValueKind: JsonValueKind.String } s:
                error = $"invalid think value: {Quoted(s.GetString()!)} (must be {Allowed})";
                return false;
            default:
                error = $"think must be a boolean or string ({Allowed})";
                return false;
        }
    }

    /// <summary>
    /// OpenAI's effort as think: "none" turns thinking off, "minimal" is low, "xhigh" and "ultra" are max, and no
    /// effort leaves the model's default. <paramref name="reasoning"/> ({"effort": ...}) wins over reasoning_effort, as in Ollama.
    /// </summary>
    public static bool TryFromReasoningEffort(JsonElement? reasoning, string? reasoningEffort, out ThinkValue? value, out string? error, out string? param)
    {
        value = null;
        error = param = null;
        string? effort = reasoningEffort;
        param = "reasoning_effort";
        if (reasoning is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } r)
        {
            param = "reasoning";
            if (r.ValueKind != JsonValueKind.Object
                || (r.TryGetProperty("effort", out var e) && e.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)))
            {
                error = "reasoning must be an object like {\"effort\": \"medium\"}";
                return false;
            }
            effort = r.TryGetProperty("effort", out var ef) && ef.ValueKind == JsonValueKind.String ? ef.GetString() : null;
        }
        switch (effort)
        {
            case null or "":
                return true;
            case "none":
                value = ThinkValue.Off;
                return true;
            case "minimal":
                value = ThinkValue.AtLevel("low");
                return true;
            case "low" or "medium" or "high" or "max":
                value = ThinkValue.AtLevel(effort);
                return true;
            case "xhigh" or "ultra":
                value = ThinkValue.AtLevel("max");
                return true;
            default:
                error = $"invalid reasoning value: {Quoted(effort)} " +
                        "(must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")";
                return false;
        }
    }

    // Go's %q for the plain values a client sends; anything unusual is cut, so the message stays short.
    private static string Quoted(string value) =>
        "\"" + (value.Length > 40 ? value[..40] + "..." : value).Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
