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
using Inference.Server.Contracts;
using Inference.Server.Generation;
using Inference.Server.Http;
using Microsoft.Extensions.Options;

namespace Inference.Server.Ollama;

/// <summary>POST /api/generate and /api/chat: thin handlers over <see cref="GenerationService"/>.</summary>
public static class OllamaGenerationApi
{
    public static IEndpointRouteBuilder MapOllamaGenerationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Ollama").WithEngineErrors(OllamaErrors.Shape);
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

    private static async Task<IResult> GenerateAsync(HttpContext http, ModelCatalog catalog, GenerationPipeline pipeline,
        IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.GenerateRequest, ct);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        if (req.Images is { Length: > 0 }) return OllamaErrors.BadRequest("images are not supported yet: this server has no vision models");
        if (!StructuredOutput.TryFromOllamaFormat(req.Format, out var grammar, out var formatError)) return OllamaErrors.BadRequest(formatError!);
        if (!RawGrammar.TryRead(req.Grammar, RawGrammar.Set(("format", grammar is not null)), out var raw, out var grammarError))
            return OllamaErrors.BadRequest(grammarError!);
        if (!ThinkOption.TryRead(req.Think, out var think, out var thinkError)) return OllamaErrors.BadRequest(thinkError!);
        var model = ModelLookup.Resolve(req.Model, catalog);
        if (!RequestSettings.TryRead(req.Options, req.KeepAlive, engine.Value, out var options, out var keepAlive, out var invalid)) return invalid;
        think = ThinkingSetup.Resolve(model, req.Model!, think);
        grammar ??= raw;

        string name = req.Model!;
        if (string.IsNullOrEmpty(req.Prompt) && string.IsNullOrEmpty(req.Suffix))
        {
            return await LoadOrUnloadAsync(pipeline, model, options, keepAlive, ct, reason =>
                TypedResults.Json(new GenerateResponse { Model = name, CreatedAt = DateTimeOffset.UtcNow, Done = true, DoneReason = reason },
                    OllamaJsonContext.Wire.GenerateResponse));
        }

        if (TopLogprobs(req.Logprobs, req.TopLogprobs, out var top) is { } logprobsError) return logprobsError;
        var input = req.Raw == true || req.Suffix is not null
            ? new GenerationInput
            {
                Model = model, RawPrompt = req.Prompt ?? "", Suffix = req.Suffix, Options = options, TopLogprobs = top, Grammar = grammar, Think = think,
            }
            : new GenerationInput
            {
                Model = model,
                TopLogprobs = top,
                Grammar = grammar,
                Think = think,
                Messages = PromptBuilder.Conversation(model, [new ChatMessage("user", req.Prompt!)], req.System),
                Template = req.Template,
                Options = options,
                // Ollama answers a templated generate with its tokens ("context"), to be sent back for a short memory.
                ReturnTokens = true,
            };
        input = input with { Context = req.Context, Fit = PromptFitOf(req.Truncate), Shift = req.Shift ?? true };

        return await RunAsync(http, pipeline, input, keepAlive, req.Stream ?? true, started, tools: null,
            (text, _) => new GenerateResponse { Model = name, CreatedAt = DateTimeOffset.UtcNow, Response = text },
            (response, thinking) => response with { Thinking = thinking }, OllamaJsonContext.Wire.GenerateResponse,
            (response, outcome) => response with { Context = outcome.Context });
    }

    private static async Task<IResult> ChatAsync(HttpContext http, ModelCatalog catalog, GenerationPipeline pipeline,
        IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.ChatRequest, ct);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        if (!StructuredOutput.TryFromOllamaFormat(req.Format, out var grammar, out var formatError)) return OllamaErrors.BadRequest(formatError!);
        if (!ToolDefinition.TryParseList(req.Tools, out var tools, out var toolsError)) return OllamaErrors.BadRequest(toolsError!.Message);
        if (!RawGrammar.TryRead(req.Grammar, RawGrammar.Set(("format", grammar is not null), ("tools", tools.Count > 0)), out var raw, out var grammarError))
            return OllamaErrors.BadRequest(grammarError!);
        if (!ThinkOption.TryRead(req.Think, out var think, out var thinkError)) return OllamaErrors.BadRequest(thinkError!);

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
            messages.Add(new ChatMessage(m.Role, m.Content ?? "") { ToolCalls = calls, ToolName = m.ToolName, ToolCallId = m.ToolCallId, Thinking = m.Thinking });
        }

        var model = ModelLookup.Resolve(req.Model, catalog);
        if (!RequestSettings.TryRead(req.Options, req.KeepAlive, engine.Value, out var options, out var keepAlive, out var invalid)) return invalid;
        // Ollama checks the model's capabilities before anything else, even for a load-only request.
        // Ollama has no tool_choice: the model is always free to answer or call.
        var toolSetup = tools.Count > 0 ? ToolSetup.For(model, tools, ToolChoice.Auto) : null;
        think = ThinkingSetup.Resolve(model, req.Model!, think);
        grammar ??= raw;

        string name = req.Model!;
        if (messages.Count == 0)
        {
            return await LoadOrUnloadAsync(pipeline, model, options, keepAlive, ct, reason =>
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
            Think = think,
            // A format constrains the whole output (calls are still read out of it, as Ollama does).
            Grammar = grammar ?? toolSetup?.Grammar,
            GrammarTrigger = grammar is null ? toolSetup?.GrammarTrigger : null,
            Fit = PromptFitOf(req.Truncate),
            Shift = req.Shift ?? true,
        };
        static ChatResponseMessage Message(string text, IReadOnlyList<ToolCall> calls) => new("assistant", text) { ToolCalls = ToolCallDto.From(calls) };
        return await RunAsync(http, pipeline, input, keepAlive, req.Stream ?? true, started, toolSetup?.CreateParser(),
            (text, calls) => new ChatResponse { Model = name, CreatedAt = DateTimeOffset.UtcNow, Message = Message(text, calls) },
            (response, thinking) => response with { Message = response.Message with { Thinking = thinking } }, OllamaJsonContext.Wire.ChatResponse);
    }

    /// <summary>Ollama's truncate (default true): cut an over-long prompt; false: refuse it.</summary>
    private static PromptFit PromptFitOf(bool? truncate) => truncate == false ? PromptFit.Refuse : PromptFit.Cut;

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
    private static async Task<IResult> LoadOrUnloadAsync(GenerationPipeline pipeline, ModelDefinition model, ModelOptions options,
        TimeSpan keepAlive, CancellationToken ct, Func<string, IResult> respond)
    {
        if (keepAlive == TimeSpan.Zero)
        {
            await pipeline.UnloadAsync(model);
            return respond("unload");
        }
        await pipeline.LoadOnlyAsync(model, options, keepAlive, ct);
        return respond("load");
    }

    /// <summary>Runs one generation through the pipeline and answers with one object or an NDJSON stream.</summary>
    /// <param name="piece">The response object for a piece of text and the calls it completed.</param>
    /// <param name="withThinking">The response object with reasoning added (Ollama's thinking field).</param>
    private static async Task<IResult> RunAsync<T>(HttpContext http, GenerationPipeline pipeline, GenerationInput input,
        TimeSpan keepAlive, bool stream, long started, ToolCallParser? tools, Func<string, IReadOnlyList<ToolCall>, T> piece,
        Func<T, string, T> withThinking, JsonTypeInfo<T> type, Func<T, GenerationOutcome, T>? final = null) where T : GenerationSummary
    {
        var ct = http.RequestAborted;
        final ??= (response, _) => response;
        await using var run = await pipeline.StartAsync(input, keepAlive, GenerationOrigin.Of(http, started), tools, ct);
        if (stream)
        {
            Ndjson.Start(http.Response);
            await run.StreamAsync(new NdjsonWriter<T>(http.Response, piece, withThinking, type, final), ct);
            return Results.Empty;
        }
        var whole = await run.CollectAsync(ct);
        var response = piece(whole.Text, whole.Calls);
        if (whole.Thinking is { Length: > 0 } thinking) response = withThinking(response, thinking);
        return TypedResults.Json(final(Summarize(response, whole.Outcome), whole.Outcome)
            with { Logprobs = input.TopLogprobs is null ? null : LogprobDto.From(whole.Logprobs) }, type);
    }

    /// <summary>
    /// The pipeline's events as Ollama's NDJSON lines: a line per delta, then the summary line or the error object.
    /// The methods hand back the write's own task (no async wrapper of their own: nothing more is allocated per token).
    /// </summary>
    private sealed class NdjsonWriter<T>(HttpResponse response, Func<string, IReadOnlyList<ToolCall>, T> piece, Func<T, string, T> withThinking,
        JsonTypeInfo<T> type, Func<T, GenerationOutcome, T> final) : IGenerationWriter where T : GenerationSummary
    {
        public ValueTask DeltaAsync(string text, IReadOnlyList<ToolCall> calls, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct) =>
            new(Ndjson.WriteAsync(response, piece(text, calls) with { Logprobs = LogprobDto.From(logprobs) }, type, ct));

        public ValueTask ThinkingAsync(string thinking, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct) =>
            new(Ndjson.WriteAsync(response, withThinking(piece("", []), thinking) with { Logprobs = LogprobDto.From(logprobs) }, type, ct));

        public ValueTask FinishedAsync(GenerationOutcome outcome, CancellationToken ct) =>
            new(Ndjson.WriteAsync(response, final(Summarize(piece("", []), outcome), outcome), type, ct));

        public ValueTask FailedAsync(string message, CancellationToken ct) =>
            new(Ndjson.WriteAsync(response, new ErrorResponse(message), SharedJsonContext.Wire.ErrorResponse, ct));
    }

    private static T Summarize<T>(T response, GenerationOutcome outcome) where T : GenerationSummary =>
        response with
        {
            Done = true,
            // Ollama reports a response with tool calls as "stop".
            DoneReason = outcome.Unloaded ? "unload" : outcome.FinishReason == "length" ? "length" : "stop",
            TotalDuration = Nanoseconds(outcome.TotalDuration),
            LoadDuration = Nanoseconds(outcome.LoadDuration),
            PromptEvalCount = outcome.PromptEvalCount,
            PromptEvalDuration = Nanoseconds(outcome.PromptEvalDuration),
            EvalCount = outcome.EvalCount,
            EvalDuration = Nanoseconds(outcome.EvalDuration),
            TruncatedTokens = outcome.TruncatedTokens > 0 ? outcome.TruncatedTokens : null,
            ContextShifts = outcome.ContextShifts > 0 ? outcome.ContextShifts : null,
        };

    private static long Nanoseconds(TimeSpan t) => t.Ticks * 100;
}
