using Inference.GrammarFuzz;
using Inference.Tests.Support;
using Xunit.Abstractions;

namespace Inference.Tests.Grammar;

/// <summary>
/// A short, fixed-seed run of the grammar crash fuzzer (benchmarks/Inference.GrammarFuzz): random schemas,
/// tool definitions and edited grammars through the converter, the checker and llama.cpp in a worker process.
/// </summary>
public sealed class GrammarFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void NoCrashHangOrDisagreementInAFixedSeedRun()
    {
        var findings = Path.Combine(Path.GetTempPath(), "grammar-fuzz-test-" + Guid.NewGuid().ToString("N"));
        var report = new FuzzRunner(new FuzzOptions
        {
            ModelPath = TestModels.Stories260K, Count = 400, Seed = 20261201, SampleEvery = 5, FindingsDirectory = findings,
        }).Run();
        output.WriteLine(report.ToString());
        foreach (var file in Directory.Exists(findings) ? Directory.GetFiles(findings) : []) output.WriteLine(File.ReadAllText(file));

        Assert.Equal(400, report.Cases);
        Assert.Equal(0, report.Crashes);
        Assert.Equal(0, report.Hangs);
        Assert.Equal(0, report.MemoryBlowups);
        Assert.Equal(0, report.Disagreements);
        Assert.Equal(0, report.ConverterFailures);
        Assert.Equal(0, report.WorkerErrors);
        Assert.Equal(0, report.InvalidOutputs);
        Assert.Equal(1, report.WorkerStarts);
        // The run exercised every path: grammars llama.cpp accepted and refused, sampling, and refusals before a grammar.
        Assert.True(report.Converted > 100, $"only {report.Converted} cases converted");
        Assert.True(report.LlamaAccepted > 100 && report.LlamaRefused > 10, $"accepted {report.LlamaAccepted}, refused {report.LlamaRefused}");
        Assert.True(report.Sampled > 20 && report.SampledFinished > 0, $"sampled {report.Sampled}, finished {report.SampledFinished}");
        Assert.True(report.Refused.Count > 5, "too few kinds of refusal");
        Assert.False(Directory.Exists(findings));
    }
}
