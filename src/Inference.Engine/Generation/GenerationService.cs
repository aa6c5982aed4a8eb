using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Scheduling;
using Inference.Engine.Tools;
using LLama.Native;

namespace Inference.Engine.Generation;

/// <summary>What a route asks the engine to generate. Exactly one of Messages or RawPrompt is set.</summary>
public sealed record GenerationInput
{
    public required ModelDefinition Model { get; init; }
    /// <summary>Chat turns rendered through the model's template.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    /// <summary>Text used as the prompt exactly (Ollama's raw mode, or fill-in-the-middle pieces).</summary>
    public string? RawPrompt { get; init; }
    /// <summary>Fill-in-the-middle: text after the cursor; RawPrompt is the text before it.</summary>
    public string? Suffix { get; init; }
    /// <summary>A Go template from the request that replaces the model's.</summary>
    public string? Template { get; init; }
    public ModelOptions Options { get; init; } = new();
    /// <summary>Report token log-probabilities with this many alternatives; null = not asked for.</summary>
    public int? TopLogprobs { get; init; }
    /// <summary>A GBNF grammar the output must follow (structured outputs, tool calls); null = free text.</summary>
    public string? Grammar { get; init; }
    /// <summary>See <see cref="SamplingSettings.GrammarTrigger"/>: drop the grammar once the output is free text.</summary>
    public string? GrammarTrigger { get; init; }
    /// <summary>Functions the model may call, shown to it by the template (.Tools); null = none.</summary>
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }
    /// <summary>
    /// Ollama's think as resolved for the model (see <see cref="ThinkingSetup"/>): shown to the template, and when on
    /// the output is split into reasoning and content; null = not set (the model cannot think, or raw prompts).
    /// </summary>
    public ThinkValue? Think { get; init; }
    /// <summary>What happens to a prompt longer than the context (see <see cref="PromptFit"/>).</summary>
    public PromptFit Fit { get; init; } = PromptFit.DropOldTurns;
    /// <summary>Ollama's shift: a full context is shifted and generation goes on (see <see cref="ContextShift"/>); false = it ends with "length".</summary>
    public bool Shift { get; init; }
    /// <summary>Token ids placed before the prompt (Ollama's deprecated generate "context" from a previous answer).</summary>
    public IReadOnlyList<int>? Context { get; init; }
    /// <summary>Report the prompt's and the answer's token ids (<see cref="GenerationCompleted.OutputTokens"/>, <see cref="RunningGeneration.PromptTokenIds"/>).</summary>
    public bool ReturnTokens { get; init; }
}

/// <summary>What happens to a prompt longer than the context.</summary>
public enum PromptFit
{
    /// <summary>The oldest chat turns (never system messages or the last one) are dropped; what is still too long is refused (400).</summary>
    DropOldTurns,
    /// <summary>Ollama's truncate: old turns are dropped, then the oldest tokens after the kept start (<see cref="PromptTruncation"/>).</summary>
    Cut,
    /// <summary>Ollama's truncate: false: nothing is dropped; a prompt too long is refused (400).</summary>
    Refuse,
}

/// <summary>A generation that has been admitted: read its events, then dispose to release the model.</summary>
public sealed class RunningGeneration(ModelLease lease, GenerationStream stream, LLamaToken[] prompt, long truncatedTokens, TimeSpan keepAlive)
    : IAsyncDisposable
{
    public ModelLease Lease { get; } = lease;
    public GenerationStream Stream { get; } = stream;
    public int PromptTokens => PromptTokenIds.Length;
    /// <summary>The prompt as submitted to the model (after truncation).</summary>
    public LLamaToken[] PromptTokenIds { get; } = prompt;
    /// <summary>Prompt tokens dropped to fit the context (a lower bound for text too long to tokenize whole).</summary>
    public long TruncatedTokens { get; } = truncatedTokens;
    public TimeSpan LoadDuration => Lease.LoadDuration;
    /// <summary>The prompt ends with the model's opening thinking tag: the output starts inside the reasoning.</summary>
    public bool PromptOpensThinking { get; init; }
    public ValueTask DisposeAsync() => new(Lease.ReleaseAsync(keepAlive));
}

/// <summary>The model lacks something a request needs (e.g. fill-in-the-middle tokens).</summary>
public sealed class UnsupportedByModelException(string message) : Exception(message);

/// <summary>
/// Glue between routes and the scheduler: loads the model, renders and tokenizes the prompt, and
/// submits it. Errors that a client must see as a status code are thrown before anything streams.
/// </summary>
public sealed class GenerationService(ModelManager models)
{
    private ModelManager Models { get; } = models;

    /// <summary>Loads the model without generating (Ollama's empty-prompt request).</summary>
    public async Task<TimeSpan> LoadOnlyAsync(ModelDefinition model, ModelOptions options, TimeSpan keepAlive, CancellationToken ct)
    {
        var lease = await Models.AcquireAsync(model, Models.SettingsFor(model, options), ct);
        await lease.ReleaseAsync(keepAlive);
        return lease.LoadDuration;
    }

    public async Task<RunningGeneration> StartAsync(GenerationInput input, TimeSpan keepAlive, CancellationToken ct)
    {
        if (input.TopLogprobs is < 0 or > GenerationRequest.MaxTopLogprobs)
            throw new InvalidOptionException($"top_logprobs must be between 0 and {GenerationRequest.MaxTopLogprobs}");
        var settings = Models.SettingsFor(input.Model, input.Options);
        var options = input.Options.Over(input.Model.Parameters);
        var lease = await Models.AcquireAsync(input.Model, settings, ct);
        try
        {
            var runner = lease.Runner;
            int ctx = runner.Settings.ContextLength;
            bool addsBos = runner.Model.Vocab.ShouldAddBOS;
            var (tokens, truncated) = Tokenize(input, runner, PromptTruncation.KeepTokens(options.NumKeep, int.MaxValue, addsBos, ctx));
            tokens = WithContext(input.Context, tokens, runner);
            int keep = PromptTruncation.KeepTokens(options.NumKeep, tokens.Length, addsBos, ctx);
            if (tokens.Length >= ctx && input.Fit == PromptFit.Cut && input.Suffix is null)
            {
                int limit = PromptTruncation.Limit(ctx, keep);
                truncated += tokens.Length - limit;
                tokens = PromptTruncation.Cut(tokens, keep, limit);
            }
            if (truncated > 0) runner.Stats.RecordTruncated(truncated);
            int maxTokens = options.NumPredict switch { null or -1 => -1, -2 => ctx, var n => n.Value };
            // A shifting sequence never runs out of context: like Ollama, bound it at 10 contexts' worth of tokens.
            if (input.Shift && (maxTokens < 0 || maxTokens > MaxShiftedContexts * ctx)) maxTokens = MaxShiftedContexts * ctx;
            var request = new GenerationRequest
            {
                PromptTokens = tokens,
                MaxTokens = maxTokens,
                Shift = input.Shift,
                KeepTokens = keep,
                ReturnTokens = input.ReturnTokens,
                Stop = options.Stop ?? [],
                CloseGrammar = options.CloseJson ?? true,
                Sampling = options.ToSampling(ctx) with { Grammar = input.Grammar, GrammarTrigger = input.GrammarTrigger },
                Cancellation = ct,
                TopLogprobs = input.TopLogprobs,
            };
            return new RunningGeneration(lease, runner.Submit(request), tokens, truncated, keepAlive)
            {
                PromptOpensThinking = ThinkingSetup.PromptOpensThinking(input, runner, tokens),
            };
        }
        catch
        {
            await lease.ReleaseAsync(keepAlive);
            throw;
        }
    }

    /// <summary>
    /// With shift on and no num_predict (or a larger one), a generation ends after this many contexts' worth of
    /// tokens (Ollama's openEndedGenerationContextMultiplier), so a model that never writes EOS cannot run forever.
    /// </summary>
    public const int MaxShiftedContexts = 10;

    /// <summary>
    /// The request's context tokens (a previous answer's "context") before the prompt, whose own BOS is then
    /// dropped (Ollama detokenizes them in front of the prompt text, which is tokenized with one BOS). Every id
    /// must be in the model's vocabulary: anything else would index outside llama.cpp's tables.
    /// </summary>
    private static LLamaToken[] WithContext(IReadOnlyList<int>? context, LLamaToken[] tokens, ModelRunner runner)
    {
        if (context is not { Count: > 0 }) return tokens;
        int vocabulary = runner.Model.Vocab.Count;
        for (int i = 0; i < context.Count; i++)
            if (context[i] < 0 || context[i] >= vocabulary)
                throw new InvalidOptionException($"context[{i}] = {context[i]} is not a token of this model (0 to {vocabulary - 1})");
        var vocab = runner.Model.Vocab;
        int skip = tokens.Length > 0 && vocab.ShouldAddBOS && vocab.BOS is { } bos && tokens[0] == bos ? 1 : 0;
        var joined = new LLamaToken[context.Count + tokens.Length - skip];
        for (int i = 0; i < context.Count; i++) joined[i] = (LLamaToken)context[i];
        tokens.AsSpan(skip).CopyTo(joined.AsSpan(context.Count));
        return joined;
    }

    /// <summary>
    /// The prompt's tokens, and how many were dropped to fit. Client text is measured before it is tokenized:
    /// text longer than the context can hold (see <see cref="TokenizerBound"/>) is refused at once, whatever
    /// its size, or with truncate only its start and end are tokenized (<see cref="PromptTruncation.CutLongText"/>).
    /// </summary>
    private static (LLamaToken[] Tokens, long Dropped) Tokenize(GenerationInput input, ModelRunner runner, int keep)
    {
        var vocab = runner.Model.Vocab;
        var bound = runner.TextBound;
        int ctx = runner.Settings.ContextLength;
        if (input.Suffix is { } suffix)
        {
            if (vocab.InfillPrefix is not { } pre || vocab.InfillSuffix is not { } suf || vocab.InfillMiddle is not { } mid)
                throw new UnsupportedByModelException($"{input.Model.DisplayName} does not support insert (no fill-in-the-middle tokens)");
            var prefix = input.RawPrompt ?? "";
            if (!bound.CanFit(prefix + suffix, ctx)) throw bound.TooLong("the input", prefix + suffix, ctx);
            // llama.cpp's infill order: <PRE> prefix <SUF> suffix <MID>.
            var prefixTokens = runner.Tokenize(prefix, false, false);
            var suffixTokens = runner.Tokenize(suffix, false, false);
            var list = new List<LLamaToken>();
            if (vocab.ShouldAddBOS && vocab.BOS is { } bos) list.Add(bos);
            list.Add(pre);
            list.AddRange(prefixTokens);
            list.Add(suf);
            list.AddRange(suffixTokens);
            list.Add(mid);
            return ([.. list], 0);
        }

        if (input.RawPrompt is { } raw) return TokenizeOrCut(raw, input, runner, keep);
        return FitConversation(input, runner, keep);
    }

    /// <summary>A whole prompt's tokens; text too long to fit is cut (with truncate) or refused.</summary>
    private static (LLamaToken[] Tokens, long Dropped) TokenizeOrCut(string text, GenerationInput input, ModelRunner runner, int keep)
    {
        var bound = runner.TextBound;
        int ctx = runner.Settings.ContextLength;
        if (bound.CanFit(text, ctx)) return (runner.Tokenize(text, runner.Model.Vocab.ShouldAddBOS, special: true), 0);
        if (input.Fit != PromptFit.Cut) throw bound.TooLong("the input", text, ctx);
        return PromptTruncation.CutLongText(text, bound, keep, PromptTruncation.Limit(ctx, keep),
            (part, first) => runner.Tokenize(part, first && runner.Model.Vocab.ShouldAddBOS, special: true));
    }

    /// <summary>
    /// Renders the conversation; when it does not fit the context window, drops the oldest turns
    /// (never system messages or the last message) until it does, as Ollama's chatPrompt does.
    /// Fewer turns never make a longer prompt, so the fewest turns to drop are found by bisection:
    /// a few renders, each stopped as soon as it passes what the context can hold, whatever the
    /// size of the conversation. If even the shortest is too long, it is refused with a clear error.
    /// </summary>
    private static (LLamaToken[] Tokens, long Dropped) FitConversation(GenerationInput input, ModelRunner runner, int keep)
    {
        var messages = input.Messages ?? [];
        int limit = runner.Settings.ContextLength;
        var bound = runner.TextBound;
        long maxBytes = bound.MaxBytes(limit);
        // A render that passes this is too long for the context (or, past the template limit, refused as a template's fault).
        int maxChars = (int)Math.Min(maxBytes, TemplateLimits.MaxOutputChars);
        var droppable = Enumerable.Range(0, messages.Count).Where(i => messages[i].Role != "system" && i != messages.Count - 1).ToList();
        // Parsed once for all the renders below; the model's own template was parsed when the model was prepared.
        var requestTemplate = string.IsNullOrEmpty(input.Template) ? null : GoTemplate.Parse(input.Template);

        // The prompt without the `drop` oldest droppable turns: its tokens, or null with the text when it cannot fit.
        (LLamaToken[]? Tokens, string? TooLong) Attempt(int drop)
        {
            var dropped = droppable.Take(drop).ToHashSet();
            var kept = messages.Where((_, i) => !dropped.Contains(i)).ToList();
            string prompt;
            try
            {
                prompt = PromptBuilder.Render(input.Model, runner.Model, kept, requestTemplate, input.Tools, maxChars, input.Think);
            }
            catch (TemplateLimitException e) when (e.Limit == TemplateLimit.Output && maxChars < TemplateLimits.MaxOutputChars)
            {
                return (null, null);
            }
            if (!bound.CanFit(prompt, limit)) return (null, prompt);
            // Special tokens in the rendered template (e.g. <|im_start|>) must become control tokens.
            return (runner.Tokenize(prompt, runner.Model.Vocab.ShouldAddBOS, special: true), null);
        }
        bool Fits((LLamaToken[]? Tokens, string? _) a) => a.Tokens is { } t && t.Length < limit;

        var whole = Attempt(0);
        // Without truncate nothing is dropped (as Ollama's chatPrompt): a prompt too long is refused.
        if (Fits(whole) || input.Fit == PromptFit.Refuse) return (whole.Tokens ?? throw TooLong(whole.TooLong), 0);
        if (droppable.Count == 0) return input.Fit == PromptFit.Cut ? LatestCut([.. messages]) : (whole.Tokens ?? throw TooLong(whole.TooLong), 0);
        var shortest = Attempt(droppable.Count);
        if (!Fits(shortest))
            return input.Fit == PromptFit.Cut ? LatestCut(messages.Where((_, i) => !droppable.Contains(i)).ToList()) : (shortest.Tokens ?? throw TooLong(shortest.TooLong), 0);
        // Invariant: dropping lo turns does not fit, dropping hi does.
        int lo = 0, hi = droppable.Count;
        var best = shortest.Tokens!;
        while (hi - lo > 1)
        {
            int mid = lo + (hi - lo) / 2;
            var attempt = Attempt(mid);
            if (Fits(attempt))
            {
                hi = mid;
                best = attempt.Tokens!;
            }
            else lo = mid;
        }
        return (best, 0);

        // Even the system messages and the latest one are too long: rendered whole (up to the template's own
        // output limit), then cut to their start and most recent tokens as a raw prompt is.
        (LLamaToken[] Tokens, long Dropped) LatestCut(IReadOnlyList<ChatMessage> kept) =>
            TokenizeOrCut(PromptBuilder.Render(input.Model, runner.Model, kept, requestTemplate, input.Tools, TemplateLimits.MaxOutputChars),
                input, runner, keep);

        // A render stopped at maxChars characters wrote at least as many bytes.
        InputTooLongException TooLong(string? prompt) => prompt is null
            ? bound.TooLong("the input", maxChars, limit, exactly: false)
            : bound.TooLong("the input", prompt, limit);
    }

    // What the routes need of the model manager, so that they go through this service rather than around it.

    /// <summary>Unloads the model now (Ollama's request with keep_alive 0).</summary>
    public Task UnloadAsync(ModelDefinition model) => Models.UnloadAsync(model.Key);

    /// <summary>
    /// Holds the model loaded with the settings a generation with these options uses, for work that needs the
    /// loaded model itself (its tokenizer, its context size) across several generations; release it with a keep-alive.
    /// </summary>
    public Task<ModelLease> AcquireAsync(ModelDefinition model, ModelOptions options, CancellationToken ct) =>
        Models.AcquireAsync(model, Models.SettingsFor(model, options), ct);
}
