using System.Text.Json;
using Inference.Server.Platform.Sql;
using Inference.Tests.Grammar;
using Inference.Tests.Platform.Sql;
using Xunit.Abstractions;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// The SQL grammars handed to llama.cpp, over every corpus schema: llama.cpp compiles them for both
/// vocabularies (a grammar it rejects would abort the process), and both tiny models — one with
/// random weights — finish within the grammar's token bound with a JSON answer whose SQL names
/// only the schema's tables and columns, is in the assistant's SQL language (<see cref="SqlQuery"/>)
/// and which PostgreSQL plans (EXPLAIN, first try, no repair).
/// </summary>
[Collection("postgres")]
public sealed class SqlGrammarModelTests(GrammarModels models, SqlSchemaCorpus.InDatabase corpus, ITestOutputHelper output)
    : IClassFixture<GrammarModels>, IClassFixture<SqlSchemaCorpus.InDatabase>
{
    private static readonly uint[] Seeds = [1, 2, 3, 4];

    public static IEnumerable<object[]> Cases() =>
        from model in new[] { "stories260K", "llama-2-tiny-random" }
        from name in SqlSchemaCorpus.Schemas.Keys
        select new object[] { model, name };

    [Theory]
    [MemberData(nameof(SqlSchemaCorpus.Names), MemberType = typeof(SqlSchemaCorpus))]
    public void LlamaCppAcceptsTheStatementGrammar(string schema)
    {
        var grammar = SqlGrammar.ForStatement(SqlSchemaCorpus.Schemas[schema]).Gbnf;
        GrammarAcceptanceTests.AssertMasks(models.Stories.NativeHandle.Vocab, grammar);
        GrammarAcceptanceTests.AssertMasks(models.TinyRandom.NativeHandle.Vocab, grammar);
    }

    [Fact]
    public void LlamaCppAcceptsTheExplanationGrammarAndAKeptStatement()
    {
        var keep = "SELECT \"Qty\", 'it''s' AS \"a\\b\"\nFROM \"Order Items\" -- ünï\t✓";
        foreach (var grammar in new[] { SqlGrammar.ForExplanation().Gbnf, SqlGrammar.ForStatement(SqlSchemaCorpus.Schemas["odd names"], keep).Gbnf })
        {
            GrammarAcceptanceTests.AssertMasks(models.Stories.NativeHandle.Vocab, grammar);
            GrammarAcceptanceTests.AssertMasks(models.TinyRandom.NativeHandle.Vocab, grammar);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GeneratedAnswersAreCompleteUseOnlySchemaNamesAndArePlannedByPostgres(string model, string schema)
    {
        var tables = SqlSchemaCorpus.Schemas[schema];
        var grammar = SqlGrammar.ForStatement(tables);
        var failures = new List<string>();
        foreach (var seed in Seeds)
        {
            var result = ConstrainedGeneration.Run(models.Get(model), GrammarModels.PathOf(model), grammar.Gbnf, seed, "SQL:", grammar.MaxTokens);
            output.WriteLine($"[{model}] {schema} seed {seed} ({result.Tokens}/{grammar.MaxTokens} tokens): {result.Text}");
            if (!result.Finished)
            {
                failures.Add($"seed {seed}: hit the token bound");
                continue;
            }
            using var answer = JsonDocument.Parse(result.Text);
            var sql = answer.RootElement.GetProperty("sql").GetString()!;
            Assert.StartsWith("SELECT ", sql);
            Assert.False(string.IsNullOrEmpty(answer.RootElement.GetProperty("explanation").GetString()));
            var foreign = SqlIdentifierCheck.Foreign(sql, tables);
            if (foreign.Count > 0) failures.Add($"seed {seed}: names outside the schema ({string.Join(", ", foreign)}): {sql}");
            else if (SqlQuery.TryParse(sql, new TenantSchema(SqlSchemaCorpus.InDatabase.SchemaOf(schema), tables), out var refused) is null)
                failures.Add($"seed {seed}: outside the SQL language: {refused}: {sql}");
            else if (await corpus.ExplainErrorAsync(schema, sql) is { } error) failures.Add($"seed {seed}: PostgreSQL: {error}: {sql}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
