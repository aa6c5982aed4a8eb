using BenchmarkDotNet.Attributes;
using Inference.Engine.Scheduling;
using LLama;
using LLama.Common;
using LLama.Native;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Benchmarks;

/// <summary>
/// Scheduler overhead per step: N sequences generating 32 tokens each through the ModelRunner
/// (queue, batch assembly, per-sequence sampling, stop filtering, channels) against the same work
/// done by a bare LLamaBatch loop. Uses the tiny stories260K model so decode cost is small and the
/// scheduler's own cost shows.
/// </summary>
[MemoryDiagnoser]
public class SchedulerStepBenchmarks
{
    private const int Tokens = 32;
    private LLamaWeights _weights = null!;
    private ModelRunner _runner = null!;
    private LLamaContext _context = null!;
    private LLamaToken[] _prompt = null!;

    [Params(1, 4, 8)] public int Sequences;

    [GlobalSetup]
    public void Setup()
    {
        var parameters = new ModelParams(TestModelPath.Stories260K) { ContextSize = 512, Threads = 1 };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _runner = new ModelRunner(_weights, new RunnerSettings { ContextLength = 256, Parallel = 8, CachedSequences = 0, Threads = 1 },
            new SchedulerStats("bench"), NullLogger.Instance);
        _context = _weights.CreateContext(new ModelParams(TestModelPath.Stories260K)
        {
            ContextSize = 256 * 8, SeqMax = 8, KVUnified = false, Threads = 1, BatchThreads = 1,
        });
        _prompt = _runner.Tokenize("Once upon a time", addBos: true, special: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _context.Dispose();
        _weights.Dispose();
    }

    [Benchmark]
    public async Task<int> ThroughScheduler()
    {
        var streams = Enumerable.Range(0, Sequences).Select(_ => _runner.Submit(new GenerationRequest
        {
            PromptTokens = _prompt,
            MaxTokens = Tokens,
            Sampling = new SamplingSettings { Temperature = 0, RepeatPenalty = 1 },
        })).ToList();
        int events = 0;
        foreach (var s in streams)
            await foreach (var _ in s.Events.ReadAllAsync()) events++;
        return events;
    }

    [Benchmark(Baseline = true)]
    public int BareBatchLoop()
    {
        var handle = _context.NativeHandle;
        var batch = new LLamaBatch();
        var samplers = Enumerable.Range(0, Sequences).Select(_ => SamplerFactory.Create(new SamplingSettings { Temperature = 0, RepeatPenalty = 1 }, _weights.NativeHandle.Vocab)).ToArray();
        var logits = new int[Sequences];
        for (int s = 0; s < Sequences; s++) logits[s] = batch.AddRange(_prompt, 0, (LLamaSeqId)s, true);
        handle.Decode(batch);
        int pos = _prompt.Length;
        for (int t = 0; t < Tokens; t++)
        {
            var next = new LLamaToken[Sequences];
            for (int s = 0; s < Sequences; s++) next[s] = samplers[s].Sample(handle, logits[s]);
            batch.Clear();
            for (int s = 0; s < Sequences; s++) logits[s] = batch.Add(next[s], pos, (LLamaSeqId)s, true);
            pos++;
            handle.Decode(batch);
        }
        for (int s = 0; s < Sequences; s++)
        {
            handle.MemorySequenceRemove((LLamaSeqId)s, -1, -1);
            samplers[s].Dispose();
        }
        return pos;
    }
}
