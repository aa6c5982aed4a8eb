using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Inference.Server.Platform.Sql;

public enum SqlAssistAction { Generate, Explain, Optimize, Fix }

/// <summary>One assist request after the route has checked it: the action, the question or statement, the caller's error (fix), and whether to run the result.</summary>
public sealed record SqlAssistInput(SqlAssistAction Action, string Query, string? Error, bool Execute);

/// <summary>
/// The SQL assistant: ranks the schema's tables against the request, fits the most relevant ones
/// into the prompt, generates under the schema's grammar, validates with EXPLAIN and, when that
/// fails, runs one repair round that shows the model PostgreSQL's error. Explain and optimize feed
/// the statement's real plan to the model; suggestions come from <see cref="PlanAdvisor"/>, not the model.
/// Without a database (no validator or executor registered), nothing is validated and the answer says so.
/// </summary>
public sealed class SqlAssistant(IOptions<PlatformOptions> options, ILogger<SqlAssistant> logger,
    ISqlValidator? validator = null, ISqlExecutor? executor = null)
{
    public const string NotValidated = "not validated: no database is configured";

    /// <summary>Schema descriptions never take more than this many tokens, whatever the context holds.</summary>
    public const int MaxSchemaTokens = 1024;

    // Room for the chat template's own tokens around the system and user texts.
    private const int TemplateMargin = 48;
    // The repair round samples instead of decoding greedily, so it does not write the rejected statement again.
    private const float RepairTemperature = 0.7f;
    private const int MaxKeptChars = 600;
    // Plan lines shown to the model (and in the answer's plan): the top of the plan is where the cost is decided.
    private const int MaxPlanLines = 12;

    public async Task<SqlAssistResponse> AssistAsync(SqlAssistInput input, TenantSchema schema, ISqlAssistantModel model, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        if (input.Execute && (validator is null || executor is null)) throw new SqlRefusedException("execute needs a configured database");
        var ranked = SqlPromptRelevance.Rank(schema.Tables, input.Action == SqlAssistAction.Fix && input.Error is { } e ? input.Query + "\n" + e : input.Query);
        if (!ranked.Any(t => SqlGrammarIdentifiers.IsUsable(t.Name))) throw new SqlRefusedException($"schema {schema.Name} has no tables to write SQL for");

        var response = input.Action == SqlAssistAction.Explain
            ? await ExplainAsync(input, schema, ranked, model, ct)
            : await WriteAsync(input, schema, ranked, model, ct);

        logger.LogInformation("SQL assist {Action} by {Model}: {Tables} of {SchemaTables} tables used, valid {Valid}, executed {Executed}, {ElapsedMs:F0} ms",
            input.Action, model.Name, response.TablesUsed.Count, schema.Tables.Count, response.Valid, response.Result is not null,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return response;
    }

    /// <summary>explain: the caller's statement, its plan, and the model's explanation of both.</summary>
    private async Task<SqlAssistResponse> ExplainAsync(SqlAssistInput input, TenantSchema schema, IReadOnlyList<TableInfo> ranked,
        ISqlAssistantModel model, CancellationToken ct)
    {
        var validation = await ValidateAsync(schema, input.Query, ct);
        // Executing first means a refused statement costs no generation.
        var result = input.Execute ? await ExecuteAsync(schema, input.Query, validation, ct) : null;
        var grammar = SqlGrammar.ForExplanation();
        var task = SqlPromptTexts.Task(input.Action, input.Query, DatabaseError(validation), Outline(validation), []);
        var prompt = Prompt(input.Action, task, ranked, grammar, model);
        var answer = Parse(await model.CompleteAsync(prompt, grammar, 0f, ct));
        return new SqlAssistResponse
        {
            Sql = input.Query,
            Explanation = answer.Explanation ?? "",
            Suggestions = Suggestions(schema, input.Query, validation),
            Valid = validation.Valid,
            ValidationError = validation.Error,
            TablesUsed = SqlAssistantTables.Used(input.Query, validation.Plan, schema),
            Model = model.Name,
            Plan = Outline(validation),
            Result = result,
        };
    }

    /// <summary>generate, optimize and fix: a statement written under the schema's grammar, validated, repaired once if PostgreSQL rejects it.</summary>
    private async Task<SqlAssistResponse> WriteAsync(SqlAssistInput input, TenantSchema schema, IReadOnlyList<TableInfo> ranked,
        ISqlAssistantModel model, CancellationToken ct)
    {
        SqlValidation? given = input.Action == SqlAssistAction.Generate ? null : await ValidateAsync(schema, input.Query, ct);
        var error = input.Action == SqlAssistAction.Fix ? input.Error ?? DatabaseError(given) : DatabaseError(given);
        var advice = given is not null ? Suggestions(schema, input.Query, given) : [];
        var task = SqlPromptTexts.Task(input.Action, input.Query, error, given is null ? null : Outline(given), advice);
        // A valid given statement may be answered unchanged ("already fine"); an invalid one may not,
        // nor one so long that its tokens would crowd the schema out of the context.
        var keep = given is { Valid: true } && input.Query.Length <= MaxKeptChars ? input.Query : null;

        // The grammar's bound over the most tables the prompt could show reserves the answer's room
        // before the tables are fitted; the grammar itself then covers exactly the tables shown.
        var bound = SqlGrammar.ForStatement(ranked.Take(SqlPromptBuilder.MaxTables).ToList(), keep);
        async Task<SqlModelAnswer> RoundAsync(string roundTask, float temperature)
        {
            var prompt = Prompt(input.Action, roundTask, ranked, bound, model);
            return Parse(await model.CompleteAsync(prompt, SqlGrammar.ForStatement(prompt.Tables, keep), temperature, ct));
        }

        var answer = await RoundAsync(task, 0f);
        var sql = answer.Sql ?? "";
        var validation = await ValidateAsync(schema, sql, ct);
        if (!validation.Valid && validator is not null)
        {
            logger.LogInformation("SQL assist {Action} by {Model}: EXPLAIN rejected the first statement, repair round", input.Action, model.Name);
            // The repair task is longer, so the tables are fitted again: the schema part shrinks rather than overflow the context.
            answer = await RoundAsync(SqlPromptTexts.Repair(task, sql, validation.Error ?? "invalid statement"), RepairTemperature);
            sql = answer.Sql ?? "";
            validation = await ValidateAsync(schema, sql, ct);
        }

        var explanation = answer.Explanation ?? "";
        if (!validation.Valid && given is { Valid: true })
        {
            // No valid rewrite: the caller's valid statement is better than an invalid one.
            sql = input.Query;
            validation = given;
            explanation = "No valid rewrite was found, so the statement is returned unchanged.";
        }

        var result = input.Execute ? await ExecuteAsync(schema, sql, validation, ct) : null;
        var suggestions = Suggestions(schema, sql, validation);
        return new SqlAssistResponse
        {
            Sql = sql,
            Explanation = explanation,
            Suggestions = advice.Concat(suggestions).Distinct(StringComparer.Ordinal).ToList(),
            Valid = validation.Valid,
            ValidationError = validation.Error,
            TablesUsed = SqlAssistantTables.Used(sql, validation.Plan, schema),
            Model = model.Name,
            Plan = Outline(validation),
            Result = result,
        };
    }

    /// <summary>
    /// The prompt with as many relevant tables as the context leaves room for: the context minus the
    /// answer's bound, minus the instructions and task, capped at <see cref="MaxSchemaTokens"/>.
    /// </summary>
    private static SqlPrompt Prompt(SqlAssistAction action, string task, IReadOnlyList<TableInfo> ranked, SqlAnswerGrammar grammar, ISqlAssistantModel model)
    {
        int fixedPart = model.CountTokens(SqlPromptTexts.System(action, "") + "\n" + task);
        int budget = Math.Min(MaxSchemaTokens, model.ContextLength - grammar.MaxTokens - fixedPart - TemplateMargin);
        var tables = SqlPromptBuilder.Fit(ranked, budget, model.CountTokens);
        return new SqlPrompt(SqlPromptTexts.System(action, SqlPromptBuilder.SchemaText(tables)), task, tables);
    }

    /// <summary>
    /// The language check (<see cref="SqlQuery"/>) first, with or without a database: a statement
    /// outside the read-only SELECT language is invalid, named, and never sent anywhere. Then EXPLAIN
    /// through the validator; without a database, a statement in the language is reported as not validated.
    /// </summary>
    private async Task<SqlValidation> ValidateAsync(TenantSchema schema, string sql, CancellationToken ct)
    {
        if (SqlQuery.TryParse(sql, schema, out var problem) is null) return new SqlValidation(false, problem, null);
        if (validator is null) return new SqlValidation(false, NotValidated, null);
        return await validator.ValidateAsync(schema.Name, sql, ct);
    }

    private async Task<SqlAssistResult> ExecuteAsync(TenantSchema schema, string sql, SqlValidation validation, CancellationToken ct)
    {
        if (!validation.Valid) throw new SqlRefusedException("the statement was not executed because it is not valid: " + validation.Error);
        var rows = await executor!.ExecuteAsync(schema.Name, sql, ct);
        return new SqlAssistResult { Columns = rows.Columns, Rows = rows.Rows, RowCount = rows.RowCount, Truncated = rows.Truncated };
    }

    private IReadOnlyList<string> Suggestions(TenantSchema schema, string sql, SqlValidation validation) =>
        PlanAdvisor.Suggest(sql, validation.Plan, schema, options.Value.Database).Select(s => s.Message).ToList();

    /// <summary>Why a statement was refused (the language check or PostgreSQL); "not validated" is no error to show a model.</summary>
    private static string? DatabaseError(SqlValidation? validation) =>
        validation is null || validation.Valid || validation.Error == NotValidated ? null : validation.Error;

    private static string? Outline(SqlValidation validation) => validation.Plan is { } plan
        ? string.Join("\n", QueryPlan.Describe(plan).Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(MaxPlanLines))
        : null;

    /// <summary>The grammar makes the answer valid JSON of this shape; anything else is an engine fault.</summary>
    private static SqlModelAnswer Parse(string text) =>
        JsonSerializer.Deserialize(text, SqlJsonContext.Wire.SqlModelAnswer)
        ?? throw new InvalidOperationException("the model's answer was not a JSON object");
}
