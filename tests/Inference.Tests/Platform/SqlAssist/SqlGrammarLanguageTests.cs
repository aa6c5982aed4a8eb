using System.Text.Json;
using Inference.Server.Platform.Sql;
using Inference.Tests.Platform.Sql;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// The generation grammar and the SQL language agree: every statement the grammar can make a model
/// write (drawn at random from the GBNF itself, thousands per schema, hostile names included) is
/// accepted by the parser, and a sample of them passes the whole validator (parser, EXPLAIN, plan).
/// </summary>
[Collection("postgres")]
public sealed class SqlGrammarLanguageTests(TestDatabase database, SqlSchemaCorpus.InDatabase corpus) : IClassFixture<SqlSchemaCorpus.InDatabase>
{
    private const int Samples = 3_000;
    private const int Validated = 40;

    public static IEnumerable<object[]> Schemas() => SqlSchemaCorpus.Names().Append([TestDatabase.Acme]);

    [Theory]
    [MemberData(nameof(Schemas))]
    public async Task Every_statement_the_grammar_samples_is_accepted_by_the_parser(string name)
    {
        _ = corpus; // the corpus schemas exist in the database
        string schemaName = name == TestDatabase.Acme ? name : SqlSchemaCorpus.InDatabase.SchemaOf(name);
        var tables = name == TestDatabase.Acme
            ? (await database.Catalog(database.Options()).GetAsync(name, default))!.Tables
            : SqlSchemaCorpus.Schemas[name];
        var schema = new TenantSchema(schemaName, tables);
        var sampler = new GbnfSampler(SqlGrammar.ForStatement(tables).Gbnf);
        var random = new Random(20_241_010 + schemaName.Length);

        var statements = new HashSet<string>(StringComparer.Ordinal);
        var refused = new List<string>();
        for (int i = 0; i < Samples; i++)
        {
            using var answer = JsonDocument.Parse(sampler.Sample(random));
            var sql = answer.RootElement.GetProperty("sql").GetString()!;
            Assert.StartsWith("SELECT ", sql);
            statements.Add(sql);
            if (SqlQuery.TryParse(sql, schema, out var error) is null) refused.Add($"{error}: {sql}");
        }
        Assert.True(refused.Count == 0, $"{refused.Count} of {Samples} refused, e.g.\n" + string.Join("\n", refused.Take(10)));
        Assert.True(statements.Count >= 100, $"only {statements.Count} distinct statements: the sampler is not exploring the grammar");

        var validator = database.Validator(database.Options());
        var invalid = new List<string>();
        foreach (var sql in statements.Take(Validated))
            if (await validator.ValidateAsync(schemaName, sql, default) is { Valid: false } result) invalid.Add($"{result.Error}: {sql}");
        Assert.True(invalid.Count == 0, string.Join("\n", invalid));
    }
}
