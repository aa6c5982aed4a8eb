using System.Diagnostics;
using Inference.Server.Platform.Sql;
using Inference.Tests.Platform.Sql;
using Xunit.Abstractions;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// The requirement's measurement: over <see cref="SqlQuestions.Acme"/> (natural-language requests
/// against tenant_acme), the share of generated SQL that PostgreSQL accepts must be at least 95% for
/// each test model. Acceptance is checked by the test's own EXPLAIN, not by trusting "valid". Both
/// models are tiny and not instruction-tuned (one has random weights): the grammar carries validity.
/// </summary>
[Collection("postgres")]
public sealed class SqlAssistValidityTests(SqlAssistServer server, ITestOutputHelper output) : IClassFixture<SqlAssistServer>
{
    public const double RequiredShare = 0.95;

    [Theory]
    [InlineData("stories")]
    [InlineData("tiny")]
    public async Task AtLeast95PercentOfGeneratedSqlIsAcceptedByPostgres(string model)
    {
        var tables = (await server.Get<ISchemaSource>().GetAsync(TestDatabase.Acme, default))!.Tables;
        var started = Stopwatch.GetTimestamp();
        var outcomes = new (string Sql, string? Error)[SqlQuestions.Acme.Count];
        // Four at a time, as several clients would: the scheduler batches them.
        await Parallel.ForEachAsync(Enumerable.Range(0, SqlQuestions.Acme.Count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            var (status, body) = await server.AssistAsync(new { query = SqlQuestions.Acme[i], schema = TestDatabase.Acme, action = "generate", model });
            if (status != 200)
            {
                outcomes[i] = ("", $"HTTP {status}: {body["error"]}");
                return;
            }
            var sql = body["sql"]!.GetValue<string>();
            var foreign = SqlIdentifierCheck.Foreign(sql, tables);
            outcomes[i] = (sql, foreign.Count > 0 ? "names outside the schema: " + string.Join(", ", foreign) : await server.ExplainErrorAsync(TestDatabase.Acme, sql));
        });
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        int accepted = outcomes.Count(o => o.Error is null);
        double share = accepted / (double)outcomes.Length;
        var summary = $"{model}: {accepted}/{outcomes.Length} generated statements accepted by EXPLAIN ({share:P1}) in {seconds:F1} s";
        output.WriteLine(summary);
        Console.WriteLine("SQL assist validity — " + summary);
        foreach (var (sql, error) in outcomes.Where(o => o.Error is not null)) output.WriteLine($"  rejected: {error}: {sql}");
        Assert.True(outcomes.Length >= 50);
        Assert.True(share >= RequiredShare, summary);
    }
}
