using System.Diagnostics;
using System.Text;
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

namespace Inference.Server.Platform;

/// <summary>POST /ai/generate: text generation for automation flows, whole or as server-sent events.</summary>
public static class PlatformGenerationApi
{
    public const int MaxTokensLimit = 8192;

    public static RouteGroupBuilder MapPlatformGenerationApi(this RouteGroupBuilder ai)
    {
        ai.MapPost("/generate", GenerateAsync)
            .RequireRateLimiting(PlatformRateLimits.Generation)
            .DocumentsJsonBody<AiGenerateRequest>()
            .Produces<AiGenerateResponse>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .WithSummary("Generate text (stream: server-sent events \"token\" then \"done\")");
        return ai;
    }

    private static async Task<IResult> GenerateAsync(HttpContext http, PlatformModels models, GenerationPipeline pipeline, IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, PlatformJsonContext.Wire.AiGenerateRequest, ct);
        if (req is null) return PlatformErrors.BadRequest(bodyError!);
        if (string.IsNullOrWhiteSpace(req.Prompt)) return PlatformErrors.BadRequest("prompt is required");
        if (req.Temperature is < 0 or > 2 || req.Temperature is float t && !float.IsFinite(t)) return PlatformErrors.BadRequest("temperature must be between 0 and 2");
        if (req.MaxTokens is < 1 or > MaxTokensLimit) return PlatformErrors.BadRequest($"max_tokens must be between 1 and {MaxTokensLimit}");
        var model = models.Choose(req.Model, PlatformTask.Generation);

        var input = new GenerationInput
        {
            Model = model,
            Messages = PromptBuilder.Conversation(model, [new ChatMessage("user", req.Prompt)], SystemPart(model, req)),
            Options = new ModelOptions { Temperature = req.Temperature, NumPredict = req.MaxTokens ?? 512 },
        };
        await using var run = await pipeline.StartAsync(input, engine.Value.KeepAlive, GenerationOrigin.Of(http, started), tools: null, ct);
        if (req.Stream == true)
        {
            ServerSentEvents.Start(http.Response);
            await run.StreamAsync(new EventWriter(http.Response, model.DisplayName), ct);
            return Results.Empty;
        }
        var whole = await run.CollectAsync(ct);
        return TypedResults.Json(Summary(whole.Text, model.DisplayName, whole.Outcome), PlatformJsonContext.Wire.AiGenerateResponse);
    }

    /// <summary>The request's system text (or the model's), followed by the request's context as guidance.</summary>
    private static string? SystemPart(ModelDefinition model, AiGenerateRequest req)
    {
        var system = req.System ?? model.System;
        if (string.IsNullOrWhiteSpace(req.Context)) return system;
        return string.IsNullOrWhiteSpace(system) ? "Context:\n" + req.Context : system + "\n\nContext:\n" + req.Context;
    }

    /// <summary>The pipeline's events as named server-sent events: "token" per piece, then "done" with the whole text and counts, or "error".</summary>
    private sealed class EventWriter(HttpResponse response, string model) : IGenerationWriter
    {
        private readonly StringBuilder _text = new();

        public ValueTask DeltaAsync(string text, IReadOnlyList<ToolCall> calls, IReadOnlyList<TokenLogprob>? logprobs, CancellationToken ct)
        {
            _text.Append(text);
            return new(ServerSentEvents.WriteEventAsync(response, "token", new AiTokenEvent(text), PlatformJsonContext.Wire.AiTokenEvent, ct));
        }

        public ValueTask FinishedAsync(GenerationOutcome outcome, CancellationToken ct) =>
            new(ServerSentEvents.WriteEventAsync(response, "done", Summary(_text.ToString(), model, outcome), PlatformJsonContext.Wire.AiGenerateResponse, ct));

        public ValueTask FailedAsync(string message, CancellationToken ct) =>
            new(ServerSentEvents.WriteEventAsync(response, "error", new ErrorResponse(message), SharedJsonContext.Wire.ErrorResponse, ct));
    }

    private static AiGenerateResponse Summary(string text, string model, GenerationOutcome done) => new()
    {
        Response = text,
        Model = model,
        EvalCount = done.EvalCount,
        PromptEvalCount = done.PromptEvalCount + done.CachedPromptCount,
        DoneReason = done.FinishReason,
        TotalDurationMs = Math.Round(done.TotalDuration.TotalMilliseconds, 3),
    };
}
