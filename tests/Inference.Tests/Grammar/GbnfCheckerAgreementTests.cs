using Inference.Engine.Grammar.Checking;
using Inference.GrammarFuzz;
using Inference.Tests.Support;

namespace Inference.Tests.Grammar;

/// <summary>A grammar worker process (llama.cpp in a child process, so an abort cannot end the test run).</summary>
public sealed class GrammarWorkerFixture : IDisposable
{
    public WorkerProcess Worker { get; } = new(TestModels.Stories260K, TimeSpan.FromSeconds(60), 1L << 30);

    public void Dispose() => Worker.Dispose();
}

/// <summary>
/// The checker's verdict against llama.cpp's own, grammar by grammar: for every verdict the checker claims
/// to share with llama.cpp, llama.cpp (asked in a worker process) accepts exactly the grammars the checker
/// finds usable. For the stricter refusals, llama.cpp is shown to accept the grammar and then fail.
/// </summary>
public sealed class GbnfCheckerAgreementTests(GrammarWorkerFixture fixture) : IClassFixture<GrammarWorkerFixture>
{
    [Theory]
    [MemberData(nameof(GbnfCorpus.Names), MemberType = typeof(GbnfCorpus))]
    public void TheCheckerGivesTheExpectedVerdict(string name)
    {
        var (grammar, expected) = GbnfCorpus.Get(name);
        var verdict = GbnfChecker.Check(grammar);
        Assert.True(expected == verdict.Problem, $"expected {expected}, got {verdict.Problem}: {verdict.Message}");
        Assert.Equal(expected == GbnfProblem.None, verdict.IsUsable);
    }

    [Theory]
    [MemberData(nameof(GbnfCorpus.Names), MemberType = typeof(GbnfCorpus))]
    public void LlamaCppAgreesWhereTheCheckerMirrorsIt(string name)
    {
        var (grammar, _) = GbnfCorpus.Get(name);
        var verdict = GbnfChecker.Check(grammar);
        if (!verdict.IsUsable && !verdict.LlamaCppRefusesToo) return; // stricter by design: see the tests below
        var (outcome, response) = fixture.Worker.Probe(grammar, 0, 0);
        Assert.True(outcome == ProbeOutcome.Answered, $"{outcome}, exit code {fixture.Worker.LastExitCode}: {string.Join("\n", fixture.Worker.RecentErrors)}");
        Assert.Null(response!.Error);
        Assert.True(verdict.IsUsable == response.Accepted,
            $"checker: {verdict.Problem} ({verdict.Message}); llama.cpp {(response.Accepted ? "accepted" : "refused")} it");
    }

    /// <summary>Refused by the checker, accepted by llama.cpp, and harmless to build (never used to sample).</summary>
    [Theory]
    [InlineData("token by id")]
    [InlineData("empty text")]
    [InlineData("NUL character")]
    public void LlamaCppAcceptsWhatTheCheckerRefusesForSafety(string name)
    {
        var (grammar, _) = GbnfCorpus.Get(name);
        Assert.False(GbnfChecker.Check(grammar).IsUsable);
        var (outcome, response) = fixture.Worker.Probe(grammar, 0, 0);
        Assert.Equal(ProbeOutcome.Answered, outcome);
        Assert.True(response!.Accepted);
    }

    /// <summary>
    /// Why the checker is stricter than llama.cpp: llama.cpp accepts these and then kills its process. A dead
    /// end masks every token and llama.cpp aborts on the token sampled anyway; hidden left recursion and a
    /// reversed count make it allocate without end while initialising (the worker is stopped at 1 GiB).
    /// </summary>
    [Theory]
    [InlineData("a character no token produces", 8)]
    [InlineData("an empty range", 8)]
    [InlineData("hidden left recursion", 0)]
    [InlineData("reversed count", 0)]
    public void WhatTheCheckerRefusesForSafetyKillsLlamaCpp(string name, int sampleTokens)
    {
        var (grammar, _) = GbnfCorpus.Get(name);
        Assert.False(GbnfChecker.Check(grammar).IsUsable);
        var (outcome, response) = fixture.Worker.Probe(grammar, sampleTokens, 1);
        Assert.True(outcome is ProbeOutcome.Crashed or ProbeOutcome.OutOfMemory,
            $"expected the worker to die, got {outcome} {response}");
    }
}
