using System.Text.Json;
using Inference.Engine.Grammar;
using Xunit.Abstractions;

namespace Inference.Tests.Grammar;

/// <summary>
/// Generates with each corpus grammar on two tiny models (one of them random weights): the grammar alone has
/// to make the output a complete document that is valid for the schema. Hitting the token cap is a failure.
/// </summary>
public sealed class GrammarGenerationTests(GrammarModels models, ITestOutputHelper output) : IClassFixture<GrammarModels>
{
    private static readonly uint[] Seeds = [1, 2, 3];

    public static IEnumerable<object[]> Cases() =>
        from model in new[] { "stories260K", "llama-2-tiny-random" }
        from name in SchemaCorpus.Schemas.Keys
        select new object[] { model, name };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GeneratedOutputIsValidForTheSchema(string model, string name)
    {
        using var schema = JsonDocument.Parse(SchemaCorpus.Schemas[name]);
        var grammar = JsonGrammar.FromSchema(schema.RootElement);
        var validator = new SchemaValidator(schema.RootElement);
        var failures = new List<string>();
        foreach (var seed in Seeds)
        {
            var result = ConstrainedGeneration.Run(models.Get(model), GrammarModels.PathOf(model), grammar, seed);
            output.WriteLine($"[{model}] {name} seed {seed} ({result.Tokens} tokens, finished {result.Finished}): {result.Text}");
            var error = result.Finished ? Validate(validator, result.Text) : "hit the token cap";
            if (error is not null) failures.Add($"seed {seed}: {error}: {result.Text}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string? Validate(SchemaValidator validator, string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return validator.Validate(document.RootElement);
        }
        catch (JsonException ex)
        {
            return "not JSON: " + ex.Message;
        }
    }
}
