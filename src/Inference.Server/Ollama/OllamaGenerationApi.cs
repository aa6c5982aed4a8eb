using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Scheduling;
using Inference.Engine.Tools;
using Inference.Server.Http;
using Inference.Server.Metrics;
using Microsoft.Extensions.Options;

namespace Inference.Server.Ollama;

/// <summary>POST /api/generate and /api/chat: thin handlers over <see cref="GenerationService"/>.</summary>
public static class OllamaGenerationApi
{
    public static IEndpointRouteBuilder MapOllamaGenerationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Ollama");
        api.MapPost("/generate", GenerateAsync)
            .DocumentsJsonBody<GenerateRequest>()
            .Produces<GenerateResponse>(StatusCodes.Status200OK, "application/json", Ndjson.ContentType)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .WithSummary("Generate a completion");
        api.MapPost("/chat", ChatAsync)
            .DocumentsJsonBody<ChatRequest>()
            .Produces<ChatResponse>(StatusCodes.Status200OK, "application/json", Ndjson.ContentType)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .WithSummary("Generate the next chat message");
        return app;
    }

    private static async Task<IResult> GenerateAsync(HttpContext http, ModelCatalog catalog, GenerationService generation,
        IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.GenerateRequest, ct);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        if (req.Images is { Length: > 0 }) return OllamaErrors.BadRequest("images are not supported yet: this server has no vision models");
        if (!StructuredOutput.TryFromOllamaFormat(req.Format, out var grammar, out var formatError)) return OllamaErrors.BadRequest(formatError!);
        if (!ModelLookup.TryResolve(req.Model, catalog, out var model, out var notFound)) return notFound;
        if (!RequestSettings.TryRead(req.Options, req.KeepAlive, engine.Value, out var options, out var keepAlive, out var invalid)) return invalid;

        string name = req.Model!;
        if (string.IsNullOrEmpty(req.Prompt) && string.IsNullOrEmpty(req.Suffix))
        {
            return await LoadOrUnloadAsync(generation, model, options, keepAlive, ct, reason =>
                TypedResults.Json(new GenerateResponse { Model = name, CreatedAt = DateTimeOffset.UtcNow, Done = true, DoneReason = reason },
                    OllamaJsonContext.Wire.GenerateResponse));
        }

        if (TopLogprobs(req.Logprobs, req.TopLogprobs, out var top) is { } logprobsError) return logprobsError;
        var input = req.Raw == true || req.Suffix is not null
            ? new GenerationInput { Model = model, RawPrompt = req.Prompt ?? "", Suffix = req.Suffix, Options = options, TopLogprobs = top, Grammar = grammar }
            : new GenerationInput
            {
                Model = model,
                TopLogprobs = top,
                Grammar = grammar,
                Messages = PromptBuilder.Conversation(model, [new ChatMessage("user", req.Prompt!)], req.System),
                Template = req.Template,
                Options = options,
            };

        return await RunAsync(http, generation, input, keepAlive, req.Stream ?? true, started, tools: null,
            (text, _) => new GenerateResponse { Model = name, CreatedAt = DateTimeOffset.UtcNow, Response = text },
            (text, _, done, load) => Summarize(new GenerateResponse { Model = name, CreatedAt = DateTimeOffset.UtcNow, Response = text }, done, load, started),
            OllamaJsonContext.Wire.GenerateResponse);
    }

    private static async Task<IResult> ChatAsync(HttpContext http, ModelCatalog catalog, GenerationService generation,
        IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.ChatRequest, ct);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        if (!StructuredOutput.TryFromOllamaFormat(req.Format, out var grammar, out var formatError)) return OllamaErrors.BadRequest(formatError!);
        if (!ToolDefinition.TryParseList(req.Tools, out var tools, out var toolsError)) return OllamaErrors.BadRequest(toolsError!.Message);

        var messages = new List<ChatMessage>();
        for (int i = 0; i < (req.Messages?.Length ?? 0); i++)
        {
            var m = req.Messages![i];
            if (m is null) return OllamaErrors.BadRequest($"messages[{i}] must be an object");
            if (m.Role is null || !ChatMessage.KnownRoles.Contains(m.Role))
                return OllamaErrors.BadRequest($"invalid role '{m.Role}' in messages[{i}].role: use system, user, assistant or tool");
            if (m.Images is { Length: > 0 }) return OllamaErrors.BadRequest($"messages[{i}].images: images are not supported yet");
            if (!ToolCall.TryParseList(m.ToolCalls, $"messages[{i}].tool_calls", out var calls, out var callsError))
                return OllamaErrors.BadRequest(callsError!.Message);
            messages.Add(new ChatMessage(m.Role, m.Content ?? "") { ToolCalls = calls, ToolName = m.ToolName, ToolCallId = m.ToolCallId });
        }

        if (!ModelLookup.TryResolve(req.Model, catalog, out var model, out var notFound)) return notFound;
        if (!RequestSettings.TryRead(req.Options, req.KeepAlive, engine.Value, out var options, out var keepAlive, out var invalid)) return invalid;
        // Ollama checks the model's capabilities before anything else, even for a load-only request.
        ToolSetup? toolSetup = null;
        try
        {
            // Ollama has no tool_choice: the model is always free to answer or call.
            if (tools.Count > 0) toolSetup = ToolSetup.For(model, tools, ToolChoice.Auto);
        }
        catch (UnsupportedByModelException e)
        {
            return OllamaErrors.BadRequest(e.Message);
        }

        string name = req.Model!;
        if (messages.Count == 0)
        {
            return await LoadOrUnloadAsync(generation, model, options, keepAlive, ct, reason =>
                TypedResults.Json(new ChatResponse
                {
                    Model = name, CreatedAt = DateTimeOffset.UtcNow, Done = true, DoneReason = reason,
                    Message = new ChatResponseMessage("assistant", ""),
                }, OllamaJsonContext.Wire.ChatResponse));
        }

        if (TopLogprobs(req.Logprobs, req.TopLogprobs, out var top) is { } logprobsError) return logprobsError;
        var input = new GenerationInput
        {
            Model = model,
            Messages = PromptBuilder.Conversation(model, messages),
            Options = options,
            TopLogprobs = top,
            Tools = toolSetup?.Tools,
            // A format constrains the whole output (calls are still read out of it, as Ollama does).
            Grammar = grammar ?? toolSetup?.Grammar,
            GrammarTrigger = grammar is null ? toolSetup?.GrammarTrigger : null,
        };
        static ChatResponseMessage Message(string text, IReadOnlyList<ToolCall> calls) => new("assistant", text) { ToolCalls = ToolCallDto.From(calls) };
        return await RunAsync(http, generation, input, keepAlive, req.Stream ?? true, started, toolSetup?.CreateParser(),
            (text, calls) => new ChatResponse { Model = name, CreatedAt = DateTimeOffset.UtcNow, Message = Message(text, calls) },
            (text, calls, done, load) => Summarize(new ChatResponse { Model = name, CreatedAt = DateTimeOffset.UtcNow, Message = Message(text, calls) }, done, load, started),
            OllamaJsonContext.Wire.ChatResponse);
    }

    /// <summary>logprobs / top_logprobs (0 to 20) as the engine's alternative count; null when not asked for.</summary>
    private static IResult? TopLogprobs(bool? logprobs, int? top, out int? count)
    {
        count = null;
        if (top is < 0 or > GenerationRequest.MaxTopLogprobs)
            return OllamaErrors.BadRequest($"top_logprobs must be between 0 and {GenerationRequest.MaxTopLogprobs}");
        if (logprobs == true || top > 0) count = top ?? 0;
        return null;
    }

    /// <summary>Ollama's empty request: load the model (done_reason "load"), or unload it when keep_alive is 0.</summary>
    private static async Task<IResult> LoadOrUnloadAsync(GenerationService generation, ModelDefinition model, ModelOptions options,
        TimeSpan keepAlive, CancellationToken ct, Func<string, IResult> respond)
    {
        if (keepAlive == TimeSpan.Zero)
        {
            await generation.Models.UnloadAsync(model.Key);
            return respond("unload");
        }
        try
        {
            await generation.LoadOnlyAsync(model, options, keepAlive, ct);
            return respond("load");
        }
        catch (Exception ex) when (ToError(ex) is { } error)
        {
            return error;
        }
    }

    /// <summary>
    /// Runs one generation and answers with one object or an NDJSON stream. With tools, the text goes through
    /// the tool call parser: held-back text (a possible call) is sent once it turns out to be content, calls in
    /// a piece of their own, and the log-probabilities of held tokens with the next piece sent.
    /// </summary>
    private static async Task<IResult> RunAsync<T>(HttpContext http, GenerationService generation, GenerationInput input,
        TimeSpan keepAlive, bool stream, long started, ToolCallParser? tools, Func<string, IReadOnlyList<ToolCall>, T> piece,
        Func<string, IReadOnlyList<ToolCall>, GenerationCompleted, TimeSpan, T> final, JsonTypeInfo<T> type) where T : GenerationSummary
    {
        var ct = http.RequestAborted;
        var metrics = http.RequestServices.GetRequiredService<InferenceMetrics>();
        RunningGeneration run;
        try
        {
            run = await generation.StartAsync(input, keepAlive, ct);
        }
        catch (Exception ex) when (ToError(ex) is { } error)
        {
            return error;
        }

        await using (run)
        {
            var text = new StringBuilder();
            var calls = new List<ToolCall>();
            var logprobs = input.TopLogprobs is null ? null : new List<LogprobDto>();
            var held = new List<LogprobDto>();
            long lastPiece = 0;
            async Task SendAsync(ToolParse parsed)
            {
                if (parsed.IsEmpty && held.Count == 0) return;
                await Ndjson.WriteAsync(http.Response, piece(parsed.Content, parsed.Calls) with { Logprobs = held.Count > 0 ? [.. held] : null }, type, ct);
                held.Clear();
            }
            try
            {
                if (stream) Ndjson.Start(http.Response);
                await foreach (var e in run.Stream.Events.ReadAllAsync(ct))
                {
                    if (e is TokenPiece)
                    {
                        long now = Stopwatch.GetTimestamp();
                        if (lastPiece == 0) metrics.FirstToken(input.Model.DisplayName, Stopwatch.GetElapsedTime(started, now));
                        else metrics.InterToken(input.Model.DisplayName, Stopwatch.GetElapsedTime(lastPiece, now));
                        lastPiece = now;
                    }
                    switch (e)
                    {
                        case TokenPiece p when stream && tools is null:
                            await Ndjson.WriteAsync(http.Response, piece(p.Text, []) with { Logprobs = LogprobDto.From(p.Logprobs) }, type, ct);
                            break;
                        case TokenPiece p when stream:
                            if (LogprobDto.From(p.Logprobs) is { } pieceLogprobs) held.AddRange(pieceLogprobs);
                            await SendAsync(tools!.Add(p.Text));
                            break;
                        case TokenPiece p:
                            var parsed = tools?.Add(p.Text) ?? new ToolParse(p.Text, []);
                            text.Append(parsed.Content);
                            calls.AddRange(parsed.Calls);
                            if (LogprobDto.From(p.Logprobs) is { } l) logprobs!.AddRange(l);
                            break;
                        case GenerationCompleted done when stream:
                            if (tools is not null) await SendAsync(tools.Finish());
                            LogFinished(http, input, done, run.LoadDuration, started);
                            await Ndjson.WriteAsync(http.Response, final("", [], done, run.LoadDuration), type, ct);
                            return Results.Empty;
                        case GenerationCompleted done:
                            if (tools?.Finish() is { } rest)
                            {
                                text.Append(rest.Content);
                                calls.AddRange(rest.Calls);
                            }
                            LogFinished(http, input, done, run.LoadDuration, started);
                            return TypedResults.Json(final(text.ToString(), calls, done, run.LoadDuration) with { Logprobs = logprobs }, type);
                        case GenerationFailed failed when stream:
                            await Ndjson.WriteAsync(http.Response, new ErrorResponse(failed.Message), OllamaJsonContext.Wire.ErrorResponse, ct);
                            return Results.Empty;
                        case GenerationFailed failed:
                            return OllamaErrors.Error(StatusCodes.Status500InternalServerError, failed.Message);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The client went away; the scheduler drops the sequence at its next step.
            }
            return Results.Empty;
        }
    }

    /// <summary>One structured line per generation: counts and durations, never prompt or output text.</summary>
    private static void LogFinished(HttpContext http, GenerationInput input, GenerationCompleted done, TimeSpan load, long started)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Inference.Generation");
        logger.LogInformation(
            "Generation finished on {Route} with model {Model}: {DoneReason}, {PromptEvalCount} prompt tokens evaluated, " +
            "{CachedPromptCount} reused from cache, {EvalCount} generated, load {LoadMs:F0} ms, prompt {PromptMs:F0} ms, " +
            "generation {EvalMs:F0} ms, total {TotalMs:F0} ms",
            http.Request.Path.Value, input.Model.DisplayName, done.Reason, done.PromptEvalCount, done.CachedPromptCount, done.EvalCount,
            load.TotalMilliseconds, done.PromptEvalDuration.TotalMilliseconds, done.EvalDuration.TotalMilliseconds,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static IResult? ToError(Exception ex) =>
        GenerationErrors.Classify(ex) is { } e ? OllamaErrors.Error(e.Status, e.Message) : null;

    private static T Summarize<T>(T response, GenerationCompleted done, TimeSpan load, long started) where T : GenerationSummary =>
        response with
        {
            Done = true,
            DoneReason = done.Reason switch
            {
                FinishReason.Length => "length",
                FinishReason.Unload => "unload",
                _ => "stop",
            },
            TotalDuration = Nanoseconds(Stopwatch.GetElapsedTime(started)),
            LoadDuration = Nanoseconds(load),
            PromptEvalCount = done.PromptEvalCount,
            PromptEvalDuration = Nanoseconds(done.PromptEvalDuration),
            EvalCount = done.EvalCount,
            EvalDuration = Nanoseconds(done.EvalDuration),
        };

    private static long Nanoseconds(TimeSpan t) => t.Ticks * 100;
}
