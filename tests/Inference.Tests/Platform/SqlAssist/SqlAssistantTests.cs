using System.Text.Json;
using Inference.Server.Platform;
using Inference.Server.Platform.Sql;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// The assistant's flow with a scripted model and validator: what each round's prompt holds, when
/// the repair round runs, and which statement and validity the answer reports.
/// </summary>
public sealed class SqlAssistantTests
{
    private static readonly TenantSchema Shop = new("shop", SqlSchemaCorpus.Schemas["shop"]
        .Select(t => t.Name == "orders" ? t with { EstimatedRows = 20000, Indexes = [new IndexInfo("orders_user_id_idx", ["user_id"], false)] } : t)
        .ToList());

    private const string SeqScanPlan = """
        [{"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders", "Alias": "orders", "Plan Rows": 4000, "Total Cost": 420.5,
                   "Filter": "(status = 'paid'::text)"}}]
        """;

    private sealed class ScriptedModel(params string[] answers) : ISqlAssistantModel
    {
        private int _next;
        public List<(SqlPrompt Prompt, SqlAnswerGrammar Grammar, float Temperature)> Calls { get; } = [];
        public string Name => "scripted";
        public int ContextLength => 4096;
        public int CountTokens(string text) => text.Length / 4 + 1;

        public Task<string> CompleteAsync(SqlPrompt prompt, SqlAnswerGrammar grammar, float temperature, CancellationToken ct)
        {
            Calls.Add((prompt, grammar, temperature));
            return Task.FromResult(answers[_next++]);
        }
    }

    private sealed class ScriptedValidator(Func<string, SqlValidation> judge) : ISqlValidator
    {
        public List<string> Seen { get; } = [];

        public Task<SqlValidation> ValidateAsync(string schema, string sql, CancellationToken ct)
        {
            Seen.Add(sql);
            return Task.FromResult(judge(sql));
        }
    }

    private sealed class RefusingExecutor : ISqlExecutor
    {
        public Task<QueryResult> ExecuteAsync(string schema, string sql, CancellationToken ct) =>
            throw new InvalidOperationException("the assistant must refuse before the executor");
    }

    private static SqlValidation Valid(string plan = SeqScanPlan) => new(true, null, JsonDocument.Parse(plan).RootElement.Clone());

    private static SqlAssistant Assistant(ISqlValidator? validator) =>
        new(Options.Create(new PlatformOptions()), NullLogger<SqlAssistant>.Instance, validator, validator is null ? null : new RefusingExecutor());

    private static string Answer(string sql, string explanation = "because") => JsonSerializer.Serialize(new { sql, explanation });

    [Fact]
    public async Task ARejectedStatementGetsOneRepairRoundThatShowsTheDatabaseError()
    {
        var model = new ScriptedModel(Answer("SELECT nme FROM users"), Answer("SELECT name FROM users", "names"));
        var validator = new ScriptedValidator(sql => sql.Contains("nme") ? new SqlValidation(false, "column \"nme\" does not exist", null) : Valid());

        var response = await Assistant(validator).AssistAsync(new SqlAssistInput(SqlAssistAction.Generate, "user names", null, false), Shop, model, default);

        Assert.Equal(2, model.Calls.Count);
        Assert.Equal(0f, model.Calls[0].Temperature);
        Assert.True(model.Calls[1].Temperature > 0f, "the repair round samples, so it need not repeat the rejected statement");
        Assert.DoesNotContain("does not exist", model.Calls[0].Prompt.User);
        Assert.Contains("Statement: SELECT nme FROM users", model.Calls[1].Prompt.User);
        Assert.Contains("Error: column \"nme\" does not exist", model.Calls[1].Prompt.User);
        Assert.StartsWith(model.Calls[0].Prompt.User, model.Calls[1].Prompt.User);
        Assert.Equal(model.Calls[0].Grammar, model.Calls[1].Grammar); // same tables, same grammar
        Assert.Equal(["SELECT nme FROM users", "SELECT name FROM users"], validator.Seen);
        Assert.Equal("SELECT name FROM users", response.Sql);
        Assert.Equal("names", response.Explanation);
        Assert.True(response.Valid);
        Assert.Null(response.ValidationError);
        Assert.Equal(["orders"], response.TablesUsed); // from the (scripted) plan
        Assert.Equal("scripted", response.Model);
    }

    [Fact]
    public async Task AValidStatementNeedsNoRepair()
    {
        var model = new ScriptedModel(Answer("SELECT name FROM users"));
        var response = await Assistant(new ScriptedValidator(_ => Valid())).AssistAsync(
            new SqlAssistInput(SqlAssistAction.Generate, "user names", null, false), Shop, model, default);
        Assert.Single(model.Calls);
        Assert.True(response.Valid);
        // The prompt shows the most relevant table first and the grammar offers the prompt's tables.
        Assert.StartsWith("Question: user names", model.Calls[0].Prompt.User);
        Assert.Equal("users", model.Calls[0].Prompt.Tables[0].Name);
        Assert.Contains("\nusers: id integer primary key", model.Calls[0].Prompt.System);
    }

    [Fact]
    public async Task WithoutADatabaseNothingIsValidatedAndThereIsNoRepairRound()
    {
        var model = new ScriptedModel(Answer("SELECT name FROM users"));
        var response = await Assistant(null).AssistAsync(new SqlAssistInput(SqlAssistAction.Generate, "user names", null, false), Shop, model, default);
        Assert.Single(model.Calls);
        Assert.False(response.Valid);
        Assert.Equal(SqlAssistant.NotValidated, response.ValidationError);
        Assert.Equal(["users"], response.TablesUsed); // read from the statement itself
        await Assert.ThrowsAsync<SqlRefusedException>(() => Assistant(null).AssistAsync(
            new SqlAssistInput(SqlAssistAction.Generate, "user names", null, true), Shop, new ScriptedModel(), default));
    }

    [Fact]
    public async Task ExplainShowsTheModelThePlanAndSuggestsFromIt()
    {
        var model = new ScriptedModel("""{"explanation": "reads every order"}""");
        const string sql = "SELECT * FROM orders WHERE status = 'paid'";
        var response = await Assistant(new ScriptedValidator(_ => Valid())).AssistAsync(
            new SqlAssistInput(SqlAssistAction.Explain, sql, null, false), Shop, model, default);

        var call = Assert.Single(model.Calls);
        Assert.Contains("Plan:\nSeq Scan on orders (rows=4000 cost=420.5) Filter: (status = 'paid'::text)", call.Prompt.User);
        Assert.DoesNotContain("SELECT", call.Grammar.Gbnf); // only {"explanation": "..."}
        Assert.Equal(sql, response.Sql);
        Assert.Equal("reads every order", response.Explanation);
        Assert.True(response.Valid);
        var suggestion = Assert.Single(response.Suggestions);
        Assert.Contains("CREATE INDEX ON shop.orders (status);", suggestion);
    }

    [Fact]
    public async Task OptimizeFeedsPlanAndAdviceAndKeepsTheOriginalWhenNoRewriteIsValid()
    {
        const string sql = "SELECT * FROM orders WHERE status = 'paid'";
        var model = new ScriptedModel(Answer("SELECT bad FROM orders"), Answer("SELECT worse FROM orders"));
        var validator = new ScriptedValidator(s => s == sql ? Valid() : new SqlValidation(false, "no such column", null));

        var response = await Assistant(validator).AssistAsync(new SqlAssistInput(SqlAssistAction.Optimize, sql, null, false), Shop, model, default);

        Assert.Equal(2, model.Calls.Count);
        Assert.Contains("Plan:\nSeq Scan on orders", model.Calls[0].Prompt.User);
        Assert.Contains("Advice:\n- Sequential scan on orders", model.Calls[0].Prompt.User);
        // The valid original is an answer the grammar allows ("already fine").
        Assert.Contains(GbnfLiteralOf(sql), model.Calls[0].Grammar.Gbnf);
        Assert.Equal(sql, response.Sql);
        Assert.True(response.Valid);
        Assert.Contains("unchanged", response.Explanation);
        Assert.Contains(response.Suggestions, s => s.Contains("CREATE INDEX ON shop.orders (status);"));
    }

    [Fact]
    public async Task FixShowsTheCallersErrorAndAWriteIsNeverReportedValid()
    {
        var model = new ScriptedModel(Answer("SELECT id FROM orders"));
        var validator = new ScriptedValidator(_ => Valid());
        await Assistant(validator).AssistAsync(
            new SqlAssistInput(SqlAssistAction.Fix, "SELECT id FROM order", "syntax error at or near \"order\"", false), Shop, model, default);
        Assert.Contains("Error:\nsyntax error at or near \"order\"", model.Calls[0].Prompt.User);

        // A DELETE is outside the language: not valid, never sent to the validator (no EXPLAIN), not executed, still explained.
        var explain = new ScriptedModel("""{"explanation": "deletes"}""", """{"explanation": "deletes"}""");
        var seen = validator.Seen.Count;
        var response = await Assistant(validator).AssistAsync(
            new SqlAssistInput(SqlAssistAction.Explain, "DELETE FROM orders", null, false), Shop, explain, default);
        Assert.False(response.Valid);
        Assert.Equal("DELETE is not a read-only query: only SELECT statements reach the database", response.ValidationError);
        Assert.DoesNotContain("Plan:", explain.Calls[0].Prompt.User);
        Assert.Equal(["orders"], response.TablesUsed);
        var refused = await Assert.ThrowsAsync<SqlRefusedException>(() => Assistant(validator).AssistAsync(
            new SqlAssistInput(SqlAssistAction.Explain, "DELETE FROM orders", null, true), Shop, explain, default));
        Assert.Equal("the statement was not executed because it is not valid: DELETE is not a read-only query: only SELECT statements reach the database", refused.Message);
        Assert.Equal(seen, validator.Seen.Count);
    }

    [Fact]
    public async Task A_model_answer_outside_the_language_is_refused_before_the_validator_and_repaired()
    {
        // Whatever the grammar allows, the model's statement is checked like the user's.
        var attack = "SELECT ts_rewrite('a'::tsquery, 'SELECT email FROM tenant_globex.users')::text";
        var model = new ScriptedModel(Answer(attack), Answer(attack));
        var validator = new ScriptedValidator(_ => Valid());
        var response = await Assistant(validator).AssistAsync(new SqlAssistInput(SqlAssistAction.Generate, "emails", null, false), Shop, model, default);

        Assert.Empty(validator.Seen);
        Assert.Equal(2, model.Calls.Count); // the refusal starts the repair round, showing the model why
        Assert.Contains("Error: function ts_rewrite is not allowed", model.Calls[1].Prompt.User);
        Assert.False(response.Valid);
        Assert.Equal("function ts_rewrite is not allowed", response.ValidationError);

        var executing = new ScriptedModel(Answer(attack), Answer(attack));
        var refused = await Assert.ThrowsAsync<SqlRefusedException>(() => Assistant(validator).AssistAsync(
            new SqlAssistInput(SqlAssistAction.Generate, "emails", null, true), Shop, executing, default));
        Assert.Equal("the statement was not executed because it is not valid: function ts_rewrite is not allowed", refused.Message);
        Assert.Empty(validator.Seen);
    }

    private static string GbnfLiteralOf(string sql) => "\"" + sql.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
