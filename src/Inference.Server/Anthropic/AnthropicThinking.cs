using System.Text.Json;
using Inference.Engine.Prompting;

namespace Inference.Server.Anthropic;

/// <summary>
/// Anthropic's extended thinking as Ollama's think (anthropic/anthropic.go, FromMessagesRequest):
/// <c>thinking: {"type": "enabled"}</c> is think on, <c>{"type": "disabled"}</c> off, and <c>{"type": "adaptive"}</c>
/// leaves the model's default; without a thinking setting, <c>output_config: {"effort"}</c> sets the level.
/// budget_tokens is checked and not enforced (as in Ollama): max_tokens bounds reasoning and text together.
/// </summary>
internal static class AnthropicThinking
{
    private static readonly IReadOnlySet<string> Efforts = new HashSet<string>(StringComparer.Ordinal) { "low", "medium", "high", "xhigh", "max" };

    public static bool TryRead(JsonElement? thinking, JsonElement? outputConfig, out ThinkValue? think, out string? error)
    {
        think = null;
        error = null;
        if (thinking is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } t)
        {
            string? type = t.ValueKind == JsonValueKind.Object && t.TryGetProperty("type", out var ty) && ty.ValueKind == JsonValueKind.String
                ? ty.GetString() : null;
            switch (type)
            {
                case "enabled":
                    if (t.TryGetProperty("budget_tokens", out var budget) && !(budget.ValueKind == JsonValueKind.Number && budget.TryGetInt32(out int n) && n >= 1))
                    {
                        error = "thinking.budget_tokens: must be a positive integer";
                        return false;
                    }
                    think = ThinkValue.On;
                    return true;
                case "disabled":
                    think = ThinkValue.Off;
                    return true;
                case "adaptive":
                    break;
                default:
                    error = "thinking: must be {\"type\": \"enabled\", \"budget_tokens\": N}, {\"type\": \"disabled\"} or {\"type\": \"adaptive\"}";
                    return false;
            }
        }
        if (outputConfig is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } o) return true;
        if (o.ValueKind != JsonValueKind.Object)
        {
            error = "output_config: must be an object";
            return false;
        }
        if (!o.TryGetProperty("effort", out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind != JsonValueKind.String || !Efforts.Contains(e.GetString()!))
        {
            error = "output_config.effort: must be \"low\", \"medium\", \"high\", \"xhigh\" or \"max\"";
            return false;
        }
        // Ollama has no xhigh level; it maps it to high.
        think = ThinkValue.AtLevel(e.GetString() == "xhigh" ? "high" : e.GetString()!);
        return true;
    }
}
