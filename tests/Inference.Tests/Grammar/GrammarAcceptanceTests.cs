using System.Text.Json;
using Inference.Engine.Grammar;
using LLama.Native;

namespace Inference.Tests.Grammar;

/// <summary>Every corpus grammar must compile in llama.cpp's own grammar parser, for both vocabularies.</summary>
public sealed class GrammarAcceptanceTests(GrammarModels models) : IClassFixture<GrammarModels>
{
    [Theory]
    [MemberData(nameof(SchemaCorpus.Names), MemberType = typeof(SchemaCorpus))]
    public void LlamaCppAcceptsTheGrammar(string name)
    {
        using var schema = JsonDocument.Parse(SchemaCorpus.Schemas[name]);
        var grammar = JsonGrammar.FromSchema(schema.RootElement);
        AssertAccepted(grammar);
    }

    [Fact]
    public void LlamaCppAcceptsTheAnyJsonGrammar() => AssertAccepted(JsonGrammar.ForAnyJson());

    // No negative test here: in this LLamaSharp/llama.cpp build a grammar referencing an undefined rule aborts
    // the whole test process natively, so grammars handed to llama.cpp must come from this converter only.

    /// <summary>
    /// "Accepted" means llama.cpp built a working grammar sampler: applied to the first token it rules out some
    /// tokens (no JSON document starts with most of them) yet leaves some possible. A sampler built without its
    /// grammar (how some llama.cpp versions degrade after logging a parse error) would mask nothing.
    /// </summary>
    private void AssertAccepted(string grammar)
    {
        AssertMasks(models.Stories.NativeHandle.Vocab, grammar);
        AssertMasks(models.TinyRandom.NativeHandle.Vocab, grammar);
    }

    internal static void AssertMasks(SafeLlamaModelHandle.Vocabulary vocab, string grammar)
    {
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddGrammar(vocab, grammar, "root");
        var candidates = LLamaTokenDataArray.Create(new float[vocab.Count]);
        using (LLamaTokenDataArrayNative.Create(candidates, out var native))
        {
            chain.Apply(ref native);
        }
        var masked = 0;
        foreach (var token in candidates.Data.Span)
        {
            if (float.IsNegativeInfinity(token.Logit)) masked++;
        }
        Assert.True(masked > 0, "the grammar sampler masked no token: llama.cpp rejected the grammar");
        Assert.True(masked < vocab.Count, "the grammar allows no first token");
    }
}
