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
    /// <summary>Tokens at the start of the prompt kept through truncation and context shifts (-1 = the whole prompt); Ollama's default is 4.</summary>
    [JsonPropertyName("num_keep")] public int? NumKeep { get; init; }
    [JsonPropertyName("num_gpu")] public int? NumGpu { get; init; }
    [JsonPropertyName("num_thread")] public int? NumThread { get; init; }
    [JsonPropertyName("stop")] public string[]? Stop { get; init; }
    /// <summary>
    /// This server's option: with a format or grammar, close the document when the token budget runs out
    /// (default true); false returns the raw cut-off text.
    /// </summary>
    [JsonPropertyName("close_json")] public bool? CloseJson { get; init; }

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
        NumKeep = NumKeep ?? defaults.NumKeep,
        NumGpu = NumGpu ?? defaults.NumGpu,
        NumThread = NumThread ?? defaults.NumThread,
        Stop = Stop ?? defaults.Stop,
        CloseJson = CloseJson ?? defaults.CloseJson,
    };

    /// <summary>Stop strings a request may set, and their length: each is checked against the held-back output at every token, on the model's loop thread.</summary>
    public const int MaxStopSequences = 32, MaxStopLength = 256;

    /// <summary>
    /// The first option outside what this server can serve, or null when all are usable. Without
    /// <paramref name="limits"/> only the bounds that hold for every model are checked; with them,
    /// num_ctx, num_thread and repeat_last_n are checked against the model and the server too
    /// (<see cref="ModelManager.SettingsFor"/> does that for every request before anything loads).
    /// Every numeric value that reaches llama.cpp is finite and inside its range here, so no
    /// request can make it divide by zero, allocate without bound or start unbounded threads.
    /// </summary>
    public OptionProblem? Validate(OptionLimits? limits = null)
    {
        if (NumPredict is < -2)
            return new("num_predict", "must be -1 (no limit), -2 (fill the context) or a non-negative token count");
        // Without limits (a request's options before its model is known) only what holds for every model is checked.
        if (limits is not null && NumCtx is { } ctx && (ctx < OptionLimits.MinContextLength || ctx > limits.MaxContextLength))
            return new("num_ctx", $"must be between {OptionLimits.MinContextLength} and {limits.MaxContextLength} (the model's training context)");
        if (NumKeep is < -1) return new("num_keep", "must be -1 (the whole prompt) or a number of tokens");
        if (Temperature is { } t && (!float.IsFinite(t) || t < 0)) return new("temperature", "must be a finite number, 0 or more");
        if (!InUnitRange(TopP)) return new("top_p", "must be between 0 and 1");
        if (!InUnitRange(MinP)) return new("min_p", "must be between 0 and 1");
        if (!InUnitRange(TypicalP)) return new("typical_p", "must be between 0 and 1");
        if (RepeatPenalty is { } rp && (!float.IsFinite(rp) || rp <= 0)) return new("repeat_penalty", "must be a finite number greater than 0 (1 turns it off)");
        if (PresencePenalty is { } pp && !float.IsFinite(pp)) return new("presence_penalty", "must be a finite number");
        if (FrequencyPenalty is { } fp && !float.IsFinite(fp)) return new("frequency_penalty", "must be a finite number");
        // llama.cpp keeps a ring buffer of repeat_last_n tokens per sequence: it must not exceed the window it looks at.
        if (RepeatLastN is < -1) return new("repeat_last_n", "must be -1 (the whole context), 0 (off) or a number of tokens");
        if (limits is not null && RepeatLastN > (NumCtx ?? limits.DefaultContextLength))
            return new("repeat_last_n", $"must be at most num_ctx ({NumCtx ?? limits.DefaultContextLength})");
        if (NumGpu is < -1) return new("num_gpu", "must be -1 (all layers), 0 or a number of layers");
        if (NumThread is < 0) return new("num_thread", "must be 0 (the server's default) or a number of threads");
        if (limits is not null && NumThread > limits.MaxThreads)
            return new("num_thread", $"must be at most {limits.MaxThreads} (this server's thread limit)");
        if (Stop is { } stops)
        {
            if (stops.Any(s => s is null)) return new("stop", "must be a list of strings");
            if (stops.Length > MaxStopSequences) return new("stop", $"must hold at most {MaxStopSequences} strings");
            if (stops.Any(s => s.Length > MaxStopLength)) return new("stop", $"strings must be at most {MaxStopLength} characters long");
        }
        return null;
    }

    private static bool InUnitRange(float? value) => value is not { } v || (float.IsFinite(v) && v is >= 0 and <= 1);

    public SamplingSettings ToSampling(int contextLength) => new()
    {
        Temperature = Temperature ?? 0.8f,
        TopK = TopK ?? 40,
        TopP = TopP ?? 0.9f,
        MinP = MinP ?? 0f,
        TypicalP = TypicalP ?? 1f,
        RepeatPenalty = RepeatPenalty ?? 1.1f,
        // Validate keeps repeat_last_n within num_ctx; the default window is cut to a smaller context too.
        RepeatLastN = Math.Min(RepeatLastN switch { null => 64, -1 => contextLength, var n => n.Value }, contextLength),
        PresencePenalty = PresencePenalty ?? 0f,
        FrequencyPenalty = FrequencyPenalty ?? 0f,
        // Ollama: a negative seed (the default) means a random one.
        Seed = Seed is { } s && s >= 0 ? (uint)(s & 0xFFFFFFFF) : SamplingSettings.LLamaSeedDefault,
    };
}

/// <summary>An option the server cannot serve: the field (Ollama's name) and what it must be.</summary>
public sealed record OptionProblem(string Field, string Problem)
{
    /// <summary>As a request's "options" field: "options.num_ctx must be ...".</summary>
    public string Message => $"options.{Field} {Problem}";
}

/// <summary>
/// What one model on this server allows, for <see cref="ModelOptions.Validate"/>: the context it was
/// trained for (llama.cpp sizes buffers by num_ctx; a larger one only costs memory the model cannot
/// use well) and the threads the server may start.
/// </summary>
public sealed record OptionLimits(int MaxContextLength, int DefaultContextLength, int MaxThreads)
{
    public const int MinContextLength = 16;
    /// <summary>No model's context goes beyond this, whatever its GGUF declares.</summary>
    public const int ContextCeiling = 1_048_576;
    /// <summary>Threads no request may ask for on any machine (the configured limit is usually lower).</summary>
    public static int ThreadCeiling => Math.Max(1, Environment.ProcessorCount);

    /// <summary>The largest num_ctx for a GGUF: its training context, capped at <see cref="ContextCeiling"/>.</summary>
    public static int ContextLimitOf(Gguf.GgufFile gguf) =>
        (int)Math.Clamp(gguf.ContextLength ?? ContextCeiling, MinContextLength, ContextCeiling);

    /// <summary>Limits for a params layer at create time: the model's context, and at most one thread per core.</summary>
    public static OptionLimits ForModelFile(Gguf.GgufFile gguf)
    {
        int max = ContextLimitOf(gguf);
        return new OptionLimits(max, max, ThreadCeiling);
    }
}
