using System.Text.Json.Serialization;
using Inference.Engine.Scheduling;

namespace Inference.Engine.Models;

/// <summary>
/// Ollama's runtime options, as they appear in a request's "options" and in a model's params layer.
/// Every field is optional; <see cref="Over"/> layers a request over the model's defaults.
/// </summary>
public sealed record ModelOptions
{
    [JsonPropertyName("temperature")] public float? Temperature { get; init; }
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
    [JsonPropertyName("top_p")] public float? TopP { get; init; }
    [JsonPropertyName("min_p")] public float? MinP { get; init; }
    [JsonPropertyName("typical_p")] public float? TypicalP { get; init; }
    [JsonPropertyName("repeat_penalty")] public float? RepeatPenalty { get; init; }
    [JsonPropertyName("repeat_last_n")] public int? RepeatLastN { get; init; }
    [JsonPropertyName("presence_penalty")] public float? PresencePenalty { get; init; }
    [JsonPropertyName("frequency_penalty")] public float? FrequencyPenalty { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }
    [JsonPropertyName("num_predict")] public int? NumPredict { get; init; }
    [JsonPropertyName("num_ctx")] public int? NumCtx { get; init; }
    [JsonPropertyName("num_gpu")] public int? NumGpu { get; init; }
    [JsonPropertyName("num_thread")] public int? NumThread { get; init; }
    [JsonPropertyName("stop")] public string[]? Stop { get; init; }

    /// <summary>This request's options with the model's defaults filling the gaps.</summary>
    public ModelOptions Over(ModelOptions? defaults) => defaults is null ? this : new ModelOptions
    {
        Temperature = Temperature ?? defaults.Temperature,
        TopK = TopK ?? defaults.TopK,
        TopP = TopP ?? defaults.TopP,
        MinP = MinP ?? defaults.MinP,
        TypicalP = TypicalP ?? defaults.TypicalP,
        RepeatPenalty = RepeatPenalty ?? defaults.RepeatPenalty,
        RepeatLastN = RepeatLastN ?? defaults.RepeatLastN,
        PresencePenalty = PresencePenalty ?? defaults.PresencePenalty,
        FrequencyPenalty = FrequencyPenalty ?? defaults.FrequencyPenalty,
        Seed = Seed ?? defaults.Seed,
        NumPredict = NumPredict ?? defaults.NumPredict,
        NumCtx = NumCtx ?? defaults.NumCtx,
        NumGpu = NumGpu ?? defaults.NumGpu,
        NumThread = NumThread ?? defaults.NumThread,
        Stop = Stop ?? defaults.Stop,
    };

    /// <summary>Returns the first invalid option as (field, message), or null when all are usable.</summary>
    public (string Field, string Message)? Validate()
    {
        if (NumPredict is < -2)
            return ("num_predict", "options.num_predict must be -1 (no limit), -2 (fill the context) or a non-negative token count");
        if (NumCtx is { } ctx && (ctx < 16 || ctx > 1_048_576)) return ("num_ctx", "options.num_ctx must be between 16 and 1048576");
        if (Temperature is < 0) return ("temperature", "options.temperature must not be negative");
        if (TopP is < 0 or > 1) return ("top_p", "options.top_p must be between 0 and 1");
        if (MinP is < 0 or > 1) return ("min_p", "options.min_p must be between 0 and 1");
        if (TypicalP is < 0 or > 1) return ("typical_p", "options.typical_p must be between 0 and 1");
        if (RepeatLastN is < -1) return ("repeat_last_n", "options.repeat_last_n must be -1 (the whole context), 0 or positive");
        if (NumThread is < 0) return ("num_thread", "options.num_thread must not be negative");
        if (Stop is { } stops && stops.Any(s => s is null)) return ("stop", "options.stop must be a list of strings");
        return null;
    }

    public SamplingSettings ToSampling(int contextLength) => new()
    {
        Temperature = Temperature ?? 0.8f,
        TopK = TopK ?? 40,
        TopP = TopP ?? 0.9f,
        MinP = MinP ?? 0f,
        TypicalP = TypicalP ?? 1f,
        RepeatPenalty = RepeatPenalty ?? 1.1f,
        RepeatLastN = RepeatLastN switch { null => 64, -1 => contextLength, var n => n.Value },
        PresencePenalty = PresencePenalty ?? 0f,
        FrequencyPenalty = FrequencyPenalty ?? 0f,
        // Ollama: a negative seed (the default) means a random one.
        Seed = Seed is { } s && s >= 0 ? (uint)(s & 0xFFFFFFFF) : SamplingSettings.LLamaSeedDefault,
    };
}
