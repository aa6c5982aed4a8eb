using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Checking;
using Inference.Engine.Scheduling;
using Inference.Server.Platform.Sql;
using Inference.Tests.Platform.SqlAssist;
using Inference.Tests.Scheduling;
using static Inference.Tests.Scheduling.RunnerHarness;

namespace Inference.Tests.Grammar;

/// <summary>
/// Every grammar passes the checker before llama.cpp sees it: a refused grammar fails only its own request
/// with a message (no native call), and every grammar the server itself builds passes.
/// </summary>
public sealed class GrammarGateTests(StoriesWeights stories) : IClassFixture<StoriesWeights>
{
    [Theory]
    [InlineData("root ::= missing", GbnfProblem.UndefinedRule)]
    [InlineData("root ::= \"a\"{2001}", GbnfProblem.RepetitionCount)]
    [InlineData("root ::= root \"a\" | \"b\"", GbnfProblem.LeftRecursion)]
    [InlineData("root ::= e root \"x\" | \"y\"\ne ::= f\nf ::= []", GbnfProblem.HiddenLeftRecursion)]
    public void The_sampler_factory_refuses_a_bad_grammar_before_llama_cpp(string grammar, GbnfProblem problem)
    {
        var ex = Assert.Throws<GrammarRejectedException>(() =>
            SamplerFactory.Create(new SamplingSettings { Grammar = grammar }, stories.Weights.NativeHandle.Vocab));
        Assert.Equal(problem, ex.Verdict.Problem);
        Assert.StartsWith($"the grammar cannot be used with llama.cpp ({problem}): ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_grammar_fails_only_its_request_and_the_runner_keeps_serving()
    {
        using var runner = Create(stories.Weights, parallel: 2, cachedSequences: 0);
        var prompt = runner.Tokenize("Once upon a time", true, false);
        var bad = runner.Submit(Request(prompt, seed: 1, maxTokens: 8, grammar: "root ::= \"a\"{0,2001}"));
        var failed = Assert.IsType<GenerationFailed>(await bad.Events.ReadAsync());
        Assert.Equal("could not start generation: the grammar cannot be used with llama.cpp (RepetitionCount): a repetition count above 2000 ({0,2001})",
            failed.Message);

        var good = await ReadAsync(runner.Submit(Request(prompt, seed: 1, maxTokens: 40, grammar: "root ::= \"yes\" | \"no\"")));
        Assert.Contains(good.Text, new[] { "yes", "no" });
        Assert.Equal(FinishReason.Stop, good.Done.Reason);
    }

    [Fact]
    public void The_servers_own_grammars_pass()
    {
        Assert.True(GbnfChecker.Check(AnyJsonObject.Gbnf).IsUsable);
        Assert.True(GbnfChecker.Check(JsonGrammar.ForAnyJson()).IsUsable);
        Assert.True(GbnfChecker.Check(SqlGrammar.ForExplanation().Gbnf).IsUsable);
        foreach (var (name, tables) in SqlSchemaCorpus.Schemas)
        {
            if (tables.Count == 0) continue;
            // optimize may keep the caller's statement: one more alternative, written as a literal.
            foreach (var keep in new[] { null, "SELECT \"a\\b\" FROM \"Note\"\"s\" -- é \u0001 \ud800" })
            {
                GbnfVerdict verdict;
                try
                {
                    verdict = GbnfChecker.Check(SqlGrammar.ForStatement(tables, keep).Gbnf);
                }
                catch (ArgumentException)
                {
                    continue; // no usable table names: no grammar is built
                }
                Assert.True(verdict.IsUsable, $"SQL grammar for '{name}': {verdict.Message}");
            }
        }
    }
}
