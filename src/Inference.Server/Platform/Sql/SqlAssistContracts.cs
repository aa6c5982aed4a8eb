using System.Text.Json.Serialization;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// POST /ai/sql/assist. <c>query</c> is a question (generate) or a statement (explain, optimize, fix);
/// <c>error</c> is the error the caller saw (fix only); <c>ddl</c> describes the schema when the
/// server has no database (with one, the catalog is authoritative and <c>ddl</c> is ignored).
/// </summary>
public sealed record SqlAssistRequest
{
    [JsonPropertyName("query")] public string? Query { get; init; }
    [JsonPropertyName("schema")] public string? Schema { get; init; }
    [JsonPropertyName("action")] public string? Action { get; init; }
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("execute")] public bool? Execute { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("ddl")] public string? Ddl { get; init; }
}

/// <summary>
/// The assistant's answer. <c>valid</c> and <c>validation_error</c> describe <c>sql</c> as PostgreSQL's
/// EXPLAIN judged it (without a database nothing is validated and <c>valid</c> is false).
/// </summary>
public sealed record SqlAssistResponse
{
    [JsonPropertyName("sql")] public required string Sql { get; init; }
    [JsonPropertyName("explanation")] public required string Explanation { get; init; }
    [JsonPropertyName("suggestions")] public required IReadOnlyList<string> Suggestions { get; init; }
    [JsonPropertyName("valid")] public bool Valid { get; init; }
    [JsonPropertyName("validation_error")] public string? ValidationError { get; init; }
    [JsonPropertyName("tables_used")] public required IReadOnlyList<string> TablesUsed { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>
    /// The outline of PostgreSQL's plan for <c>sql</c> (one node per line, indented by depth, with
    /// estimated rows, cost and conditions), as the model was shown it; absent when EXPLAIN did not run.
    /// </summary>
    [JsonPropertyName("plan")] public string? Plan { get; init; }
    /// <summary>Rows of <c>sql</c>, when the request asked to execute it.</summary>
    [JsonPropertyName("result")] public SqlAssistResult? Result { get; init; }
}

/// <summary>An executed statement's rows, values as the executor reads them (numbers, strings, booleans, null, json, arrays).</summary>
public sealed record SqlAssistResult
{
    [JsonPropertyName("columns")] public required IReadOnlyList<string> Columns { get; init; }
    [JsonPropertyName("rows")] public required IReadOnlyList<IReadOnlyList<object?>> Rows { get; init; }
    [JsonPropertyName("row_count")] public int RowCount { get; init; }
    [JsonPropertyName("truncated")] public bool Truncated { get; init; }
}

/// <summary>GET /ai/sql/tenants: the tenant schemas the caller's token grants, sorted (a schema picker's choices).</summary>
public sealed record SqlTenantsResponse([property: JsonPropertyName("tenants")] IReadOnlyList<string> Tenants);
