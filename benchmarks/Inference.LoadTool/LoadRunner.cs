using System.Diagnostics;

namespace Inference.LoadTool;

/// <summary>Runs a closed-loop load: N clients each take the next request index until all are done.</summary>
public sealed class LoadRunner(LoadOptions options, HttpClient http)
{
    private readonly GenerateClient _client = new(http, options);
    private readonly PromptMix _prompts = new(options.Seed, options.PromptTokens,
        options.SharedPrefixTokens, options.SharedPrefixShare);

    public async Task<LoadReport> RunAsync(Action<string>? log, CancellationToken ct)
    {
        if (options.Warmup > 0)
        {
            log?.Invoke($"warm-up: {options.Warmup} request(s)");
            // Warm-up uses indices past the measured range so it primes the shared prefix (as a real
            // steady state would) without pre-caching any measured request's unique prompt.
            var warm = await RunPhaseAsync(options.Requests, options.Warmup, null, ct);
            var failed = warm.Count(r => !r.Ok);
            if (failed > 0) log?.Invoke($"warm-up: {failed} error(s), e.g. {warm.First(r => !r.Ok).Error}");
        }
        log?.Invoke($"measuring: {options.Requests} request(s) with {options.Clients} client(s)");
        var sw = Stopwatch.StartNew();
        var results = await RunPhaseAsync(0, options.Requests, log, ct);
        sw.Stop();
        return LoadReport.Build(options, results, sw.Elapsed);
    }

    private async Task<List<RequestResult>> RunPhaseAsync(int firstIndex, int count, Action<string>? log, CancellationToken ct)
    {
        var results = new RequestResult[count];
        var next = -1;
        var completed = 0;
        var workers = Enumerable.Range(0, Math.Min(options.Clients, count)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var index = firstIndex + i;
                results[i] = await _client.RunAsync(index, _prompts.Build(index), ct);
                var c = Interlocked.Increment(ref completed);
                if (log is not null && (c % Math.Max(1, count / 10) == 0 || c == count))
                    log($"  {c}/{count} done");
            }
        });
        await Task.WhenAll(workers);
        return [.. results];
    }
}
