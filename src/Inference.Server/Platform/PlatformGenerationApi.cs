using System.Diagnostics;
using System.Text;
using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Scheduling;
using Inference.Server.Http;
using Inference.Server.Ollama;
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

    private static async Task<IResult> GenerateAsync(HttpContext http, PlatformModels models, GenerationService generation, IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, PlatformJsonContext.Wire.AiGenerateRequest, ct);
        if (req is null) return PlatformErrors.BadRequest(bodyError!);
        if (string.IsNullOrWhiteSpace(req.Prompt)) return PlatformErrors.BadRequest("prompt is required");
        if (req.Temperature is < 0 or > 2 || req.Temperature is float t && !float.IsFinite(t)) return PlatformErrors.BadRequest("temperature must be between 0 and 2");
        if (req.MaxTokens is < 1 or > MaxTokensLimit) return PlatformErrors.BadRequest($"max_tokens must be between 1 and {MaxTokensLimit}");
        if (!models.TryChoose(req.Model, PlatformTask.Generation, out var model, out var error)) return error;

        var input = new GenerationInput
        {
            Model = model,
            Messages = PromptBuilder.Conversation(model, [new ChatMessage("user", req.Prompt)], SystemPart(model, req)),
            Options = new ModelOptions { Temperature = req.Temperature, NumPredict = req.MaxTokens ?? 512 },
        };
        var keepAlive = engine.Value.KeepAlive;
        try
        {
            if (req.Stream == true) return await StreamAsync(http, generation, input, keepAlive, model.DisplayName, started);
            var result = await TextGeneration.CompleteAsync(generation, input, keepAlive, ct);
            LogFinished(http, model.DisplayName, result.Completed, false, started);
            return TypedResults.Json(Summary(result.Text, model.DisplayName, result.Completed, started), PlatformJsonContext.Wire.AiGenerateResponse);
        }
        catch (Exception ex) when (TextGeneration.ToError(ex) is { } failure)
        {
            if (http.Response.HasStarted) return Results.Empty;
            return failure;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Results.Empty; // the client went away; the scheduler frees the sequence at its next step
        }
    }

    /// <summary>The request's system text (or the model's), followed by the request's context as guidance.</summary>
    private static string? SystemPart(ModelDefinition model, AiGenerateRequest req)
    {
        var system = req.System ?? model.System;
        if (string.IsNullOrWhiteSpace(req.Context)) return system;
        return string.IsNullOrWhiteSpace(system) ? "Context:\n" + req.Context : system + "\n\nContext:\n" + req.Context;
    }

    private static async Task<IResult> StreamAsync(HttpContext http, GenerationService generation, GenerationInput input,
        TimeSpan keepAlive, string model, long started)
    {
        var ct = http.RequestAborted;
        await using var run = await generation.StartAsync(input, keepAlive, ct);
        ServerSentEvents.Start(http.Response);
        var text = new StringBuilder();
        await foreach (var e in run.Stream.Events.ReadAllAsync(ct))
        {
            switch (e)
            {
                case TokenPiece piece:
                    text.Append(piece.Text);
                    await ServerSentEvents.WriteEventAsync(http.Response, "token", new AiTokenEvent(piece.Text), PlatformJsonContext.Wire.AiTokenEvent, ct);
                    break;
                case GenerationCompleted done:
                    LogFinished(http, model, done, true, started);
                    await ServerSentEvents.WriteEventAsync(http.Response, "done", Summary(text.ToString(), model, done, started),
                        PlatformJsonContext.Wire.AiGenerateResponse, ct);
                    return Results.Empty;
                case GenerationFailed failed:
                    await ServerSentEvents.WriteEventAsync(http.Response, "error", new ErrorResponse(failed.Message), OllamaJsonContext.Wire.ErrorResponse, ct);
                    return Results.Empty;
            }
        }
        return Results.Empty;
    }

    /// <summary>Counts and durations only: prompts and completions never reach the logs.</summary>
    private static void LogFinished(HttpContext http, string model, GenerationCompleted done, bool stream, long started) =>
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Inference.Platform").LogInformation(
            "Platform generation finished with model {Model} (stream {Stream}): {DoneReason}, {PromptTokens} prompt tokens " +
            "({CachedPromptCount} cached), {EvalCount} generated, total {TotalMs:F0} ms",
            model, stream, done.Reason, done.PromptEvalCount + done.CachedPromptCount, done.CachedPromptCount, done.EvalCount,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);

    private static AiGenerateResponse Summary(string text, string model, GenerationCompleted done, long started) => new()
    {
        Response = text,
        Model = model,
        EvalCount = done.EvalCount,
        PromptEvalCount = done.PromptEvalCount + done.CachedPromptCount,
        DoneReason = done.Reason == FinishReason.Length ? "length" : "stop",
        TotalDurationMs = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3),
    };
}
