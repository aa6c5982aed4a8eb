using System.Text.Json.Serialization.Metadata;
using Inference.Engine.Generation;
using Inference.Server.Generation;
using Inference.Server.Http;
using Inference.Engine.Tools;

namespace Inference.Server.OpenAI;

/// <summary>
/// The <c>n</c> choices of one /v1 request, generated together. The n generations are submitted at once with the
/// same prompt, so the scheduler evaluates it once and forks its KV cells for the others (see
/// Inference.Engine.Scheduling.PromptSharing, as /ai/code/complete does); with a seed, choice i samples with
/// seed + i, so the choices differ at temperature &gt; 0 and the whole answer is reproducible. When one choice
/// fails the others are stopped. Dispose to release the model.
/// </summary>
internal sealed class OpenAIChoices : IAsyncDisposable
{
    /// <summary>
    /// The most choices a request may ask for: each is a sequence of the model's scheduler, and more than its
    /// parallel slots would only queue behind each other.
    /// </summary>
    public const int MaxChoices = 8;

    private readonly PipelineRun[] _runs;
    private readonly CancellationTokenSource _stop;

    private OpenAIChoices(PipelineRun[] runs, CancellationTokenSource stop)
    {
        _runs = runs;
        _stop = stop;
    }

    /// <summary>Admits the n generations; what a client must see as a status code is thrown here, before anything is written.</summary>
    /// <param name="tools">A new tool-call parser for each choice, or null when no tools were offered.</param>
    public static async Task<OpenAIChoices> StartAsync(GenerationPipeline pipeline, GenerationInput input, int n, TimeSpan keepAlive,
        GenerationOrigin origin, Func<ToolCallParser?> tools, CancellationToken ct)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var starts = Enumerable.Range(0, n).Select(async i =>
        {
            var choice = input.Options.Seed is { } seed ? input with { Options = input.Options with { Seed = (seed + i) & 0xFFFFFFFFL } } : input;
            try
            {
                return await pipeline.StartAsync(choice, keepAlive, origin, tools(), stop.Token);
            }
            catch
            {
                await stop.CancelAsync();
                throw;
            }
        }).ToList();
        try
        {
            return new OpenAIChoices(await Task.WhenAll(starts), stop);
        }
        catch (Exception e)
        {
            foreach (var started in starts.Where(s => s.IsCompletedSuccessfully)) await started.Result.DisposeAsync();
            stop.Dispose();
            if (e is OperationCanceledException && !ct.IsCancellationRequested) throw CauseOf(starts) ?? e;
            throw;
        }
    }

    /// <summary>Every choice whole, in choice order; an engine failure is thrown as <see cref="GenerationFailedException"/>.</summary>
    public async Task<GeneratedText[]> CollectAsync()
    {
        var collects = _runs.Select(async run =>
        {
            try
            {
                return await run.CollectAsync(_stop.Token);
            }
            catch
            {
                await _stop.CancelAsync();
                throw;
            }
        }).ToList();
        try
        {
            return await Task.WhenAll(collects);
        }
        catch (OperationCanceledException e) when (_stop.IsCancellationRequested)
        {
            // A sibling's failure cancelled this one: report the failure itself.
            throw CauseOf(collects) ?? e;
        }
    }

    /// <summary>
    /// Streams every choice as server-sent events, their chunks interleaved as their tokens come (each names its
    /// choice's index); then, once all have finished, the usage chunk when asked for, and [DONE].
    /// </summary>
    /// <param name="chunks">The chunks of choice i.</param>
    public async Task StreamAsync<TChunk>(HttpResponse response, Func<int, OpenAIChunks<TChunk>> chunks, JsonTypeInfo<TChunk> type, bool includeUsage)
    {
        ServerSentEvents.Start(response);
        var gate = new SemaphoreSlim(1, 1);
        var writers = Enumerable.Range(0, _runs.Length).Select(i => new OpenAIEventStream<TChunk>(response, chunks(i), type, gate)).ToList();
        await Task.WhenAll(_runs.Select(async (run, i) =>
        {
            await run.StreamAsync(writers[i], _stop.Token);
            // A choice that failed (or ended without a result) ends the others: the answer is incomplete anyway.
            if (writers[i].Outcome is null) await _stop.CancelAsync();
        }));
        if (writers.Any(w => w.Outcome is null)) return;
        var ct = _stop.Token;
        if (includeUsage) await ServerSentEvents.WriteAsync(response, chunks(0).UsageOnly(UsageOf([.. writers.Select(w => w.Outcome!)])), type, ct);
        await ServerSentEvents.DoneAsync(response, ct);
    }

    /// <summary>
    /// OpenAI's usage of n choices: the prompt counted once, the completions summed. Cached tokens are those the
    /// choice that evaluated the most of the prompt found cached (the others continued from its KV cells).
    /// </summary>
    public static Usage UsageOf(IReadOnlyList<GenerationOutcome> choices)
    {
        int prompt = choices[0].PromptEvalCount + choices[0].CachedPromptCount;
        int completion = choices.Sum(c => c.EvalCount);
        return new Usage(prompt, completion, prompt + completion, new PromptTokensDetails(choices.Min(c => c.CachedPromptCount)));
    }

    private static Exception? CauseOf<T>(IEnumerable<Task<T>> tasks) =>
        tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _runs) await run.DisposeAsync();
        _stop.Dispose();
    }
}
