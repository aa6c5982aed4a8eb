using System.Threading.Channels;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>Per-request sampling settings (Ollama option names in comments).</summary>
public sealed record SamplingSettings
{
    public float Temperature { get; init; } = 0.8f;      // temperature; <= 0 means greedy
    public int TopK { get; init; } = 40;                  // top_k; <= 0 disables
    public float TopP { get; init; } = 0.9f;              // top_p; >= 1 disables
    public float MinP { get; init; }                      // min_p; 0 disables
    public float TypicalP { get; init; } = 1f;            // typical_p; >= 1 disables
    public float RepeatPenalty { get; init; } = 1.1f;     // repeat_penalty
    public int RepeatLastN { get; init; } = 64;           // repeat_last_n
    public float PresencePenalty { get; init; }           // presence_penalty
    public float FrequencyPenalty { get; init; }          // frequency_penalty
    public uint Seed { get; init; } = LLamaSeedDefault;   // seed; LLamaSeedDefault = random

    /// <summary>A GBNF grammar (root rule "root") that every sampled token must keep valid; null = free text.</summary>
    public string? Grammar { get; init; }

    /// <summary>
    /// For a grammar of the form "calls | any text not beginning with this trigger" (tool calls the model may
    /// choose to make): once the output can no longer begin with the trigger, the grammar allows any text, so
    /// it is dropped from the sampler chain rather than applied to every token (its cost grows with the
    /// vocabulary). Null = the grammar applies to the end.
    /// </summary>
    public string? GrammarTrigger { get; init; }

    /// <summary>
    /// Check the grammar only against the tokens that can be chosen (see <see cref="TokenSampler"/>) rather than
    /// the whole vocabulary at every step; the same tokens either way. False is kept for the equivalence tests and
    /// the grammar-overhead benchmark (before/after).
    /// </summary>
    public bool CheckGrammarLazily { get; init; } = true;

    /// <summary>
    /// Greedy without a grammar: pick the token in managed code (see <see cref="TokenSampler"/>'s PickGreedy) rather
    /// than through llama.cpp's chain, which walks the whole vocabulary twice; the same token either way. False is kept
    /// for the equivalence tests.
    /// </summary>
    public bool PickGreedyInManagedCode { get; init; } = true;

    /// <summary>llama.cpp's LLAMA_DEFAULT_SEED: the sampler picks a random seed.</summary>
    public const uint LLamaSeedDefault = 0xFFFFFFFF;
}

/// <summary>One generation submitted to a model's scheduler loop.</summary>
public sealed class GenerationRequest
{
    public required LLamaToken[] PromptTokens { get; init; }

    /// <summary>Tokens to generate at most; -1 = until the context is full.</summary>
    public int MaxTokens { get; init; } = -1;

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>
    /// With a grammar: when the budget (MaxTokens or the context) is about to run out, emit the shortest text
    /// that finishes the document instead of cutting it (the finish reason stays Length). False = the raw cut
    /// (Ollama's options.close_json / OpenAI's close_json).
    /// </summary>
    public bool CloseGrammar { get; init; } = true;

    /// <summary>Report each generated token's log-probability with this many alternatives; null = no log-probabilities.</summary>
    public int? TopLogprobs { get; init; }

    /// <summary>The most alternatives a request may ask for per token (Ollama's and OpenAI's limit).</summary>
    public const int MaxTopLogprobs = 20;
    public SamplingSettings Sampling { get; init; } = new();

    /// <summary>Cancelled when the client goes away; the loop drops the sequence at its next step.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>
    /// Ollama's shift: when the sequence fills its context, half of its tokens after the first
    /// <see cref="KeepTokens"/> are discarded and generation goes on (see <see cref="ContextShift"/>);
    /// false = it ends with Length. Needs a bounded <see cref="MaxTokens"/> (the service caps it).
    /// </summary>
    public bool Shift { get; init; }

    /// <summary>Tokens at the start of the sequence that a shift never discards (Ollama's num_keep, plus BOS).</summary>
    public int KeepTokens { get; init; }

    /// <summary>Report the ids of the generated tokens in <see cref="GenerationCompleted.OutputTokens"/> (Ollama's context).</summary>
    public bool ReturnTokens { get; init; }
}

public enum FinishReason { Stop, Length, Cancelled, Unload }

public abstract record GenerationEvent;

/// <summary>A candidate token and its log-probability under the model (before sampling settings).</summary>
public sealed record TokenAlternative(string Token, float Logprob, byte[] Bytes);

/// <summary>A generated token, its log-probability and the most likely alternatives.</summary>
public sealed record TokenLogprob(string Token, float Logprob, byte[] Bytes, IReadOnlyList<TokenAlternative> TopLogprobs);

/// <summary>
/// A piece of generated text; never splits a UTF-8 character. When asked for, Logprobs holds the
/// tokens sampled since the previous piece (a piece can carry several, or none while a
/// multi-byte character or a possible stop string is held back).
/// </summary>
public sealed record TokenPiece(string Text, IReadOnlyList<TokenLogprob>? Logprobs = null) : GenerationEvent;

/// <summary>
/// The last event of a generation. PromptEvalCount counts only prompt tokens actually evaluated;
/// CachedPromptCount those reused from the prefix cache. Durations are measured around real decode calls.
/// ContextShifts counts the times the full context was shifted; OutputTokens holds the generated token ids
/// when the request asked for them.
/// </summary>
public sealed record GenerationCompleted(
    FinishReason Reason,
    int PromptEvalCount,
    TimeSpan PromptEvalDuration,
    int EvalCount,
    TimeSpan EvalDuration,
    int CachedPromptCount = 0,
    int ContextShifts = 0,
    IReadOnlyList<LLamaToken>? OutputTokens = null) : GenerationEvent
{
    /// <summary>The request's stop string that ended the output; null when none did.</summary>
    public string? StopSequence { get; init; }
}

/// <summary>The generation failed inside the engine (e.g. the KV cache had no room).</summary>
public sealed record GenerationFailed(string Message) : GenerationEvent;

/// <summary>What the caller reads: events in order, ending with Completed or Failed.</summary>
public sealed class GenerationStream(ChannelReader<GenerationEvent> events)
{
    public ChannelReader<GenerationEvent> Events { get; } = events;
}

/// <summary>The scheduler's wait queue is full (OLLAMA_MAX_QUEUE).</summary>
public sealed class QueueFullException() : Exception("server busy, please try again: maximum pending requests exceeded");

/// <summary>The model's scheduler loop died of an error; the model is reloaded on the next request.</summary>
public sealed class SchedulerFailedException()
    : Exception("the model's scheduler stopped after an internal error; try again: the model is reloaded on the next request");

/// <summary>A prompt that can never fit in one sequence's context window.</summary>
public sealed class PromptTooLongException(int promptTokens, int contextLength)
    : Exception($"the input length ({promptTokens} tokens) exceeds the context length ({contextLength} tokens)")
{
    public int PromptTokens { get; } = promptTokens;
    public int ContextLength { get; } = contextLength;
}
