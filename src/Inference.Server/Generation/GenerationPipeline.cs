using System.Diagnostics;
using System.Text;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Scheduling;
using Inference.Engine.Tools;
using Inference.Server.Metrics;

namespace Inference.Server.Generation;

/// <summary>
/// The one path from a route to the engine and back: admits a generation through <see cref="GenerationService"/>,
/// then turns the runner's token stream into <see cref="IGenerationWriter"/> events. Every API's generations
/// pass here, so every one is counted in the time-to-first-token and inter-token metrics, is written as one
/// "Generation finished" log line (counts and durations, never text), has its reasoning split from its
/// content (when thinking is on) and its tool calls parsed the same way, and its finish reason named once.
/// </summary>
public sealed class GenerationPipeline(GenerationService generation, InferenceMetrics metrics, ILoggerFactory loggers)
{
    private readonly ILogger _log = loggers.CreateLogger("Inference.Generation");

    /// <summary>
    /// Admits the generation. What a client must see as a status code (model, prompt, queue, memory) is
    /// thrown here, before anything is written; the route group's error filter turns it into the API's shape.
    /// </summary>
    /// <param name="tools">The tool-call parser for this request's tools, or null when none were offered.</param>
    public async Task<PipelineRun> StartAsync(GenerationInput input, TimeSpan keepAlive, GenerationOrigin origin, ToolCallParser? tools,
        CancellationToken ct)
    {
        var run = await generation.StartAsync(input, keepAlive, ct);
        return new PipelineRun(this, run, input.Model.DisplayName, origin, tools, ThinkingSetup.SplitterFor(input, run.PromptOpensThinking));
    }

    /// <summary>Unloads a model now (Ollama's empty request with keep_alive 0).</summary>
    public Task UnloadAsync(ModelDefinition model) => generation.UnloadAsync(model);

    /// <summary>Loads a model without generating (Ollama's empty request).</summary>
    public Task<TimeSpan> LoadOnlyAsync(ModelDefinition model, ModelOptions options, TimeSpan keepAlive, CancellationToken ct) =>
        generation.LoadOnlyAsync(model, options, keepAlive, ct);

    internal void FirstToken(string model, TimeSpan sinceStart) => metrics.FirstToken(model, sinceStart);
    internal void InterToken(string model, TimeSpan gap) => metrics.InterToken(model, gap);

    internal void Finished(GenerationOrigin origin, string model, GenerationOutcome o) =>
        _log.LogInformation(
            "Generation finished on {Route} with model {Model}: {DoneReason}, {PromptEvalCount} prompt tokens evaluated, " +
            "{CachedPromptCount} reused from cache, {EvalCount} generated, load {LoadMs:F0} ms, prompt {PromptMs:F0} ms, " +
            "generation {EvalMs:F0} ms, total {TotalMs:F0} ms",
            origin.Route, model, o.EngineReason, o.PromptEvalCount, o.CachedPromptCount, o.EvalCount,
            o.LoadDuration.TotalMilliseconds, o.PromptEvalDuration.TotalMilliseconds, o.EvalDuration.TotalMilliseconds,
            o.TotalDuration.TotalMilliseconds);
}

/// <summary>
/// One admitted generation: read it once, as a stream (<see cref="StreamAsync"/>) or whole (<see cref="CollectAsync"/>),
/// then dispose it to release the model. Per token it adds no allocation of its own: pieces go to the writer as they
/// came, and with tools (or thinking) only the parser's (or splitter's) result and the held log-probabilities exist.
/// </summary>
public sealed class PipelineRun : IAsyncDisposable
{
    private readonly GenerationPipeline _pipeline;
    private readonly RunningGeneration _run;
    private readonly string _model;
    private readonly GenerationOrigin _origin;
    private readonly ToolCallParser? _tools;
    private readonly ThinkingSplitter? _thinking;
    // Log-probabilities of tokens whose text the tool-call parser or the thinking splitter holds back: sent with the next delta.
    private readonly List<TokenLogprob> _held = [];
    private int _calls;
    private long _lastPiece;

    internal PipelineRun(GenerationPipeline pipeline, RunningGeneration run, string model, GenerationOrigin origin, ToolCallParser? tools,
        ThinkingSplitter? thinking)
    {
        _thinking = thinking;
        _pipeline = pipeline;
        _run = run;
        _model = model;
        _origin = origin;
        _tools = tools;
    }

    /// <summary>Tokens of the prompt as submitted.</summary>
    public int PromptTokens => _run.PromptTokens;

    /// <summary>Sends every event to the writer as it happens. A client that goes away ends it quietly.</summary>
    public async Task StreamAsync(IGenerationWriter writer, CancellationToken ct)
    {
        try
        {
            await PumpAsync(writer, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away; the scheduler drops the sequence at its next step.
        }
    }

    /// <summary>The whole generation; an engine failure is thrown as <see cref="GenerationFailedException"/>.</summary>
    public async Task<GeneratedText> CollectAsync(CancellationToken ct)
    {
        var collected = new Collector();
        if (!await PumpAsync(collected, ct)) throw new GenerationFailedException("the generation ended without a result");
        return new GeneratedText(collected.Text.ToString(), collected.Calls, collected.Logprobs, collected.Outcome!)
        {
            Thinking = _thinking is null ? null : collected.Thinking.ToString(),
        };
    }

    /// <summary>False when the stream ended without a final event.</summary>
    private async Task<bool> PumpAsync(IGenerationWriter writer, CancellationToken ct)
    {
        await foreach (var e in _run.Stream.Events.ReadAllAsync(ct))
        {
            switch (e)
            {
                case TokenPiece piece:
                    Timed();
                    if (_thinking is null) await ContentAsync(writer, piece.Text, piece.Logprobs, ct);
                    else await SplitAsync(writer, _thinking.Add(piece.Text), piece.Logprobs, ct);
                    break;
                case GenerationCompleted done:
                    if (_thinking is not null) await SplitAsync(writer, _thinking.Finish(), null, ct);
                    if (_tools is not null) await ParsedAsync(writer, _tools.Finish(), ct);
                    else if (_held.Count > 0) await FlushHeldAsync(writer, ct);
                    var outcome = Outcome(done);
                    _pipeline.Finished(_origin, _model, outcome);
                    await writer.FinishedAsync(outcome, ct);
                    return true;
                case GenerationFailed failed:
                    await writer.FailedAsync(failed.Message, ct);
                    return true;
            }
        }
        return false;
    }

    /// <summary>
    /// A piece's reasoning goes to the writer first, then its content through the tool-call parser. Log-probabilities
    /// travel with the reasoning when the piece is only reasoning, else with the content (held while the splitter holds text).
    /// </summary>
    private async ValueTask SplitAsync(IGenerationWriter writer, (string Thinking, string Content) split, IReadOnlyList<TokenLogprob>? logprobs,
        CancellationToken ct)
    {
        if (split.Thinking.Length > 0)
        {
            bool onlyThinking = split.Content.Length == 0;
            IReadOnlyList<TokenLogprob>? thinkingLogprobs = null;
            if (onlyThinking && (logprobs is not null || _held.Count > 0))
            {
                thinkingLogprobs = [.. _held, .. logprobs ?? []];
                _held.Clear();
                logprobs = null;
            }
            await writer.ThinkingAsync(split.Thinking, thinkingLogprobs, ct);
            if (onlyThinking) return;
        }
        if (split.Content.Length == 0)
        {
            if (logprobs is not null) _held.AddRange(logprobs);
            return;
        }
        await ContentAsync(writer, split.Content, logprobs, ct);
    }

    /// <summary>Content, straight to the writer or through the tool-call parser.</summary>
    private ValueTask ContentAsync(IGenerationWriter writer, string text, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
    {
        if (_tools is not null)
        {
            if (logprobs is not null) _held.AddRange(logprobs);
            return ParsedAsync(writer, _tools.Add(text), ct);
        }
        if (_held.Count == 0) return writer.DeltaAsync(text, [], logprobs, ct);
        IReadOnlyList<TokenLogprob> all = [.. _held, .. logprobs ?? []];
        _held.Clear();
        return writer.DeltaAsync(text, [], all, ct);
    }

    /// <summary>Log-probabilities of text the splitter held and then dropped (whitespace around the tags) go out with an empty delta.</summary>
    private ValueTask FlushHeldAsync(IGenerationWriter writer, CancellationToken ct)
    {
        IReadOnlyList<TokenLogprob> held = [.. _held];
        _held.Clear();
        return writer.DeltaAsync("", [], held, ct);
    }

    /// <summary>Held-back text is sent once it turns out to be content, calls as they complete, held log-probabilities with the next delta.</summary>
    private ValueTask ParsedAsync(IGenerationWriter writer, ToolParse parsed, CancellationToken ct)
    {
        if (parsed.IsEmpty && _held.Count == 0) return ValueTask.CompletedTask;
        IReadOnlyList<TokenLogprob>? logprobs = _held.Count > 0 ? [.. _held] : null;
        _held.Clear();
        _calls += parsed.Calls.Count;
        return writer.DeltaAsync(parsed.Content, parsed.Calls, logprobs, ct);
    }

    private void Timed()
    {
        long now = Stopwatch.GetTimestamp();
        if (_lastPiece == 0) _pipeline.FirstToken(_model, Stopwatch.GetElapsedTime(_origin.StartedTimestamp, now));
        else _pipeline.InterToken(_model, Stopwatch.GetElapsedTime(_lastPiece, now));
        _lastPiece = now;
    }

    private GenerationOutcome Outcome(GenerationCompleted done) => new()
    {
        FinishReason = GenerationOutcome.NameOf(done.Reason, _calls > 0),
        Unloaded = done.Reason == FinishReason.Unload,
        EngineReason = done.Reason,
        PromptTokens = _run.PromptTokens,
        PromptEvalCount = done.PromptEvalCount,
        CachedPromptCount = done.CachedPromptCount,
        EvalCount = done.EvalCount,
        StopSequence = done.StopSequence,
        LoadDuration = _run.LoadDuration,
        PromptEvalDuration = done.PromptEvalDuration,
        EvalDuration = done.EvalDuration,
        TotalDuration = Stopwatch.GetElapsedTime(_origin.StartedTimestamp),
        TruncatedTokens = _run.TruncatedTokens,
        ContextShifts = done.ContextShifts,
        Context = done.OutputTokens is { } output ? [.. _run.PromptTokenIds.Select(t => (int)t), .. output.Select(t => (int)t)] : null,
    };

    public ValueTask DisposeAsync() => _run.DisposeAsync();

    /// <summary>The writer behind <see cref="CollectAsync"/>.</summary>
    private sealed class Collector : IGenerationWriter
    {
        public StringBuilder Text { get; } = new();
        public StringBuilder Thinking { get; } = new();
        public List<ToolCall> Calls { get; } = [];
        public List<TokenLogprob> Logprobs { get; } = [];
        public GenerationOutcome? Outcome { get; private set; }

        public ValueTask DeltaAsync(string text, IReadOnlyList<ToolCall> calls, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
        {
            Text.Append(text);
            Calls.AddRange(calls);
            if (logprobs is not null) Logprobs.AddRange(logprobs);
            return ValueTask.CompletedTask;
        }

        public ValueTask ThinkingAsync(string thinking, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
        {
            Thinking.Append(thinking);
            if (logprobs is not null) Logprobs.AddRange(logprobs);
            return ValueTask.CompletedTask;
        }

        public ValueTask FinishedAsync(GenerationOutcome outcome, CancellationToken ct)
        {
            Outcome = outcome;
            return ValueTask.CompletedTask;
        }

        public ValueTask FailedAsync(string message, CancellationToken ct) => throw new GenerationFailedException(message);
    }
}
