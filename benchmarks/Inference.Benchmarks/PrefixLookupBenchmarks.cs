using BenchmarkDotNet.Attributes;
using Inference.Engine.Scheduling;
using LLama.Native;

namespace Inference.Benchmarks;

/// <summary>Cost of finding the longest cached prefix for a new prompt (done once per admitted request).</summary>
[MemoryDiagnoser]
public class PrefixLookupBenchmarks
{
    private PrefixCache _cache = null!;
    private LLamaToken[] _prompt = null!;

    [Params(4, 16)] public int Entries;
    [Params(1000, 4000)] public int PromptTokens;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var shared = Enumerable.Range(0, PromptTokens / 2).Select(_ => (LLamaToken)random.Next(32000)).ToArray();
        _cache = new PrefixCache(Entries);
        for (int i = 0; i < Entries; i++)
        {
            var tokens = shared.Concat(Enumerable.Range(0, PromptTokens / 2).Select(_ => (LLamaToken)random.Next(32000))).ToArray();
            _cache.Add((LLamaSeqId)i, tokens);
        }
        _prompt = shared.Concat(Enumerable.Range(0, PromptTokens / 2).Select(_ => (LLamaToken)random.Next(32000))).ToArray();
    }

    [Benchmark]
    public int FindLongestPrefix() => _cache.FindLongestPrefix(_prompt).Length;
}
