using System.Diagnostics;
using System.Globalization;
using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Scheduling;
using Inference.Server.Contracts;
using Inference.Server.Generation;
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
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .WithSummary("Complete code at a cursor (fill-in-the-middle when the model supports it)");
        return ai;
    }

    private static async Task<IResult> CompleteAsync(HttpContext http, PlatformModels models, GenerationService generation, GenerationPipeline pipeline,
        IOptions<EngineOptions> engine, PlatformResponseCache cache)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, CodeJsonContext.Wire.CodeCompleteRequest, ct);
        if (req is null) return PlatformErrors.BadRequest(bodyError!);
        var (job, invalid) = CodeRequestValidation.Validate(req);
        if (job is null) return PlatformErrors.BadRequest(invalid!);
        var model = models.Choose(job.Model, PlatformTask.Code);

        var options = new ModelOptions
        {
            Temperature = model.Parameters.Temperature is > 0 and var t ? t : DefaultTemperature,
            // Code repeats its identifiers and brackets: no repetition penalty unless the model asks for one.
            RepeatPenalty = model.Parameters.RepeatPenalty ?? 1f,
            NumPredict = job.MaxTokens,
        };
        // The temperature here is never 0 (see DefaultTemperature), so in practice a fixed seed is what
        // makes a completion deterministic; the cache is looked up before the model is loaded or run.
        string? cacheKey = PlatformResponseCache.IsDeterministic(options.Temperature ?? DefaultTemperature, job.Seed) && cache.Enabled
            ? PlatformResponseCache.Key("code", PlatformUser.From(http), model.Prepared.ManifestDigest,
                [job.Before, job.After, job.Language, job.N.ToString(CultureInfo.InvariantCulture), job.MaxTokens.ToString(CultureInfo.InvariantCulture),
                 job.Seed?.ToString(CultureInfo.InvariantCulture) ?? "unseeded",
                 string.Create(CultureInfo.InvariantCulture, $"{options.Temperature}|{options.RepeatPenalty}")])
            : null;
        if (cacheKey is not null && await cache.GetAsync("code", cacheKey) is { } cached)
            return TypedResults.Bytes(cached, "application/json");
        var keepAlive = engine.Value.KeepAlive;
        ModelLease? lease = null;
        try
        {
            // Held across the completions: the vocabulary decides the mode, the tokenizer the window.
            lease = await generation.AcquireAsync(model, options, ct);
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
            var results = await SampleAsync(pipeline, GenerationOrigin.Of(http, started), input, job.N, seed, keepAlive, ct);
            var response = Response(model.DisplayName, mode, results, started);
            if (cacheKey is null) return TypedResults.Json(response, CodeJsonContext.Wire.CodeCompleteResponse);
            var answer = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(response, CodeJsonContext.Wire.CodeCompleteResponse);
            await cache.SetAsync(cacheKey, answer);
            return TypedResults.Bytes(answer, "application/json");
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
    private static async Task<GeneratedText[]> SampleAsync(GenerationPipeline pipeline, GenerationOrigin origin, GenerationInput input, int n, uint seed,
        TimeSpan keepAlive, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var runs = Enumerable.Range(0, n).Select(async i =>
        {
            var fork = input with { Options = input.Options with { Seed = CodeRequestValidation.SeedOf(seed, i) } };
            try
            {
                await using var run = await pipeline.StartAsync(fork, keepAlive, origin, tools: null, stop.Token);
                return await run.CollectAsync(stop.Token);
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
            Confidence = CodeConfidence.Of(r.Logprobs),
            FinishReason = r.Outcome.FinishReason,
        }).ToList();
        return new CodeCompleteResponse
        {
            Model = model,
            Mode = CodePrompt.Name(mode),
            Completions = [.. choices.Select(c => c.Text)],
            Confidence = CodeConfidence.Overall(choices.Select(c => c.Confidence)),
            Choices = choices,
            PromptEvalCount = results[0].Outcome.PromptTokens,
            PromptTokensEvaluated = results.Sum(r => r.Outcome.PromptEvalCount),
            EvalCount = results.Sum(r => r.Outcome.EvalCount),
            TotalDurationMs = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3),
        };
    }
}
