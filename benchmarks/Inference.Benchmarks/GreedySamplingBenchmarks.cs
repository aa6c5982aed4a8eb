using BenchmarkDotNet.Attributes;
using Inference.Engine.Scheduling;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Inference.Benchmarks;

/// <summary>
/// One greedy token with Ollama's default penalties (repeat_penalty 1.1 over the last 64 tokens, 64 accepted
/// already): llama.cpp's chain (candidates for the whole vocabulary, a penalties lookup for each, greedy) against
/// TokenSampler's managed pick (the recent tokens penalised by llama.cpp's sampler, then the first largest logit).
/// On the Llama 2 vocabulary (32,000 tokens) of the test model, and on a model of BENCH_SAMPLING_MODEL when set (e.g. the
/// harness's benchmarks/models/llama3.2-1b-q4_k_m.gguf, Llama 3's 128,256 tokens).
/// </summary>
[MemoryDiagnoser]
public class GreedySamplingBenchmarks
{
    private LLamaWeights _weights = null!;
    private LLamaContext _context = null!;
    private TokenSampler _chain = null!;
    private TokenSampler _here = null!;
    private int _logitsIndex;

    public static IEnumerable<string> Models()
    {
        yield return TestModelPath.TinyRandomLlama2;
        if (Environment.GetEnvironmentVariable("BENCH_SAMPLING_MODEL") is { Length: > 0 } extra) yield return extra;
    }

    [ParamsSource(nameof(Models))] public string Model = "";

    [GlobalSetup]
    public void Setup()
    {
        var parameters = new ModelParams(Model) { ContextSize = 256, Threads = 2, GpuLayerCount = 0 };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
        var prompt = _context.Tokenize("Once upon a time there was a little dog who", addBos: true);
        var batch = new LLamaBatch();
        batch.AddRange(prompt, 0, LLamaSeqId.Zero, true);
        if (_context.NativeHandle.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("decode failed");
        _logitsIndex = batch.TokenCount - 1;
        var random = new Random(1);
        var settings = new SamplingSettings { Temperature = 0 };
        _chain = new TokenSampler(settings with { PickGreedyInManagedCode = false }, _weights.NativeHandle);
        _here = new TokenSampler(settings, _weights.NativeHandle);
        for (int i = 0; i < 64; i++)
        {
            var token = (LLamaToken)random.Next(_weights.NativeHandle.Vocab.Count);
            _chain.Accept(token);
            _here.Accept(token);
        }
    }

    [Benchmark(Baseline = true)]
    public LLamaToken LlamaCppChain() => _chain.Sample(_context.NativeHandle, _logitsIndex);

    [Benchmark]
    public LLamaToken ManagedPick() => _here.Sample(_context.NativeHandle, _logitsIndex);

    [GlobalCleanup]
    public void Cleanup()
    {
        _chain.Dispose();
        _here.Dispose();
        _context.Dispose();
        _weights.Dispose();
    }
}
