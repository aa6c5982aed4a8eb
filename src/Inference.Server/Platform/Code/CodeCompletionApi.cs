using System.Diagnostics;
using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Scheduling;
using Inference.Server.Http;
using Microsoft.Extensions.Options;

namespace Inference.Server.Platform.Code;

/// <summary>
/// POST /ai/code/complete: n completions at the cursor, sampled from one evaluated prompt.
/// The n generations are submitted together with the same prompt, so the scheduler evaluates it
/// once and forks its KV cells for the others (see Inference.Engine.Scheduling.PromptSharing);
/// each samples with its own seed. Prompts and completions are never logged.
/// </summary>
public static class CodeCompletionApi
{
    /// <summary>
    /// Sampling temperature when the model sets none (or 0): low enough for plausible code, high
    /// enough that the n completions differ where the model sees alternatives. At temperature 0
    /// every fork would sample the same tokens.
    /// </summary>
    public const float DefaultTemperature = 0.6f;

    public static RouteGroupBuilder MapCodeCompletionApi(this RouteGroupBuilder ai)
    {
        ai.MapPost("/code/complete", CompleteAsync)
            .RequireRateLimiting(PlatformRateLimits.CodeCompletion)
            .DocumentsJsonBody<CodeCompleteRequest>()
            .Produces<CodeCompleteResponse>()
            .Produces<Ollama.ErrorResponse>(StatusCodes.Status400BadRequest)
            .WithSummary("Complete code at a cursor (fill-in-the-middle when the model supports it)");
        return ai;
    }

    private static async Task<IResult> CompleteAsync(HttpContext http, PlatformModels models, GenerationService generation, IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, CodeJsonContext.Wire.CodeCompleteRequest, ct);
        if (req is null) return PlatformErrors.BadRequest(bodyError!);
        var (job, invalid) = CodeRequestValidation.Validate(req);
        if (job is null) return PlatformErrors.BadRequest(invalid!);
        if (!models.TryChoose(job.Model, PlatformTask.Code, out var model, out var error)) return error;

        var options = new ModelOptions
        {
            Temperature = model.Parameters.Temperature is > 0 and var t ? t : DefaultTemperature,
            // Code repeats its identifiers and brackets: no repetition penalty unless the model asks for one.
            RepeatPenalty = model.Parameters.RepeatPenalty ?? 1f,
            NumPredict = job.MaxTokens,
        };
        var keepAlive = engine.Value.KeepAlive;
        ModelLease? lease = null;
        try
        {
            // Held across the completions: the vocabulary decides the mode, the tokenizer the window.
            lease = await generation.Models.AcquireAsync(model, generation.Models.SettingsFor(model, options), ct);
            var runner = lease.Runner;
            var mode = CodePrompt.ModeFor(runner.Model.Vocab);
            if (mode == CompletionMode.Prefix && job.Before.Length == 0)
                return PlatformErrors.BadRequest($"{model.DisplayName} has no fill-in-the-middle tokens, so it needs code before the cursor to continue");
            int budget = runner.Settings.ContextLength - job.MaxTokens - CodePrompt.MaxOverheadTokens;
            if (budget <= 0)
                return PlatformErrors.BadRequest($"max_tokens leaves no room for code in the model's {runner.Settings.ContextLength}-token context");
            var (before, after) = CodeWindow.Fit(job.Before, mode == CompletionMode.FillInTheMiddle ? job.After : "", budget,
                text => text.Length == 0 ? 0 : runner.Tokenize(text, false, false).Length, runner.TextBound.BytesPerToken);

            var input = CodePrompt.Build(model, mode, before, after, options);
            uint seed = job.Seed ?? (uint)Random.Shared.NextInt64(0, CodeRequestValidation.MaxSeed + 1);
            var results = await SampleAsync(generation, input, job.N, seed, keepAlive, ct);
            return TypedResults.Json(Response(model.DisplayName, mode, results, started), CodeJsonContext.Wire.CodeCompleteResponse);
        }
        catch (Exception ex) when (TextGeneration.ToError(ex) is { } failure)
        {
            return failure;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Results.Empty; // the client went away; the scheduler frees the sequences at its next step
        }
        finally
        {
            if (lease is not null) await lease.ReleaseAsync(keepAlive);
        }
    }

    /// <summary>
    /// Runs the n generations at once with seeds seed, seed+1, ...: submitted together, they share
    /// one evaluation of the prompt. When one fails the others are stopped, and its error is the answer.
    /// </summary>
    private static async Task<GeneratedText[]> SampleAsync(GenerationService generation, GenerationInput input, int n, uint seed,
        TimeSpan keepAlive, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var runs = Enumerable.Range(0, n).Select(async i =>
        {
            var fork = input with { Options = input.Options with { Seed = CodeRequestValidation.SeedOf(seed, i) } };
            try
            {
                return await TextGeneration.CompleteAsync(generation, fork, keepAlive, stop.Token);
            }
            catch
            {
                await stop.CancelAsync();
                throw;
            }
        }).ToList();
        try
        {
            return await Task.WhenAll(runs);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // A sibling's failure cancelled this one: report the failure itself.
            var cause = runs.Where(r => r.IsFaulted).Select(r => r.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (cause is not null) throw cause;
            throw;
        }
    }

    private static CodeCompleteResponse Response(string model, CompletionMode mode, GeneratedText[] results, long started)
    {
        var choices = results.Select(r => new CodeChoice
        {
            Text = r.Text,
            Confidence = CodeConfidence.Of(r.Tokens),
            FinishReason = r.Completed.Reason == FinishReason.Length ? "length" : "stop",
        }).ToList();
        return new CodeCompleteResponse
        {
            Model = model,
            Mode = CodePrompt.Name(mode),
            Completions = [.. choices.Select(c => c.Text)],
            Confidence = CodeConfidence.Overall(choices.Select(c => c.Confidence)),
            Choices = choices,
            PromptEvalCount = results[0].PromptTokens,
            PromptTokensEvaluated = results.Sum(r => r.Completed.PromptEvalCount),
            EvalCount = results.Sum(r => r.Completed.EvalCount),
            TotalDurationMs = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3),
        };
    }
}
