using System.Diagnostics;
using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Server.Contracts;
using Inference.Server.Generation;
using Inference.Server.Http;
using Microsoft.Extensions.Options;
using Inference.Server.Platform.Sql;
using Npgsql;

// In the namespace of its caller (PlatformApi), as route-mapping extensions usually are.
namespace Inference.Server.Platform;

/// <summary>
/// POST /ai/sql/assist: natural language → SQL (generate), and explain, optimize or fix a statement,
/// for one of the caller's tenant schemas. Everything about the caller is checked before the
/// database or a model is touched: the body, the schema name, and the token's tenants.
/// </summary>
public static class SqlAssistApi
{
    public const int MaxQueryChars = 20_000;
    public const int MaxErrorChars = 4_000;
    public const int MaxDdlChars = 200_000;

    public static RouteGroupBuilder MapSqlAssistApi(this RouteGroupBuilder ai)
    {
        ai.MapPost("/sql/assist", AssistAsync)
            .RequireRateLimiting(PlatformRateLimits.SqlAssist)
            .DocumentsJsonBody<SqlAssistRequest>()
            .Produces<SqlAssistResponse>(StatusCodes.Status200OK, "application/json")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status403Forbidden)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .WithSummary("SQL assistant: generate, explain, optimize or fix SQL for a tenant schema (grammar-constrained, validated with EXPLAIN)");
        ai.MapGet("/sql/tenants", Tenants)
            .Produces<SqlTenantsResponse>(StatusCodes.Status200OK, "application/json")
            .WithSummary("The tenant schemas the bearer token grants (its tenants claim), sorted: the choices for /ai/sql/assist's schema");
        return ai;
    }

    private static async Task<IResult> AssistAsync(HttpContext http, PlatformModels models, GenerationService generation, GenerationPipeline pipeline,
        IOptions<EngineOptions> engine, SqlAssistant assistant, TenantSchemaName names, IOptions<PlatformOptions> platform,
        PlatformResponseCache cache)
    {
        long started = Stopwatch.GetTimestamp();
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, SqlJsonContext.Wire.SqlAssistRequest, ct);
        if (req is null) return PlatformErrors.BadRequest(bodyError!);
        if (Check(req, out var action) is { } problem) return PlatformErrors.BadRequest(problem);
        if (names.Problem(req.Schema) is { } schemaProblem) return PlatformErrors.BadRequest(schemaProblem);
        if (!PlatformUser.From(http).MayAccess(req.Schema!)) return PlatformErrors.Forbidden($"the token does not grant access to schema {req.Schema}");

        var catalog = http.RequestServices.GetService<ISchemaSource>();
        if (req.Execute == true && catalog is null) return PlatformErrors.BadRequest("execute needs a configured database; none is configured");
        if (catalog is null && string.IsNullOrWhiteSpace(req.Ddl))
            return PlatformErrors.BadRequest("no database is configured: send the schema's CREATE TABLE statements in ddl");
        var model = models.Choose(req.Model, PlatformTask.Sql);

        try
        {
            TenantSchema? schema;
            if (catalog is not null) schema = await catalog.GetAsync(req.Schema!, ct);
            else
            {
                try { schema = DdlSchemaParser.Parse(req.Schema!, req.Ddl!); }
                catch (FormatException ex) { return PlatformErrors.BadRequest("ddl could not be read: " + ex.Message); }
            }
            if (schema is null) return PlatformErrors.Error(StatusCodes.Status404NotFound, $"schema {req.Schema} does not exist");

            var input = new SqlAssistInput(action, req.Query!, req.Error, req.Execute == true);
            // Looked up after the schema is read (its fingerprint is part of the key), before the model is loaded or run.
            string? cacheKey = cache.Enabled
                ? SqlAssistCacheKey.For(PlatformUser.From(http), model.Prepared.ManifestDigest, input, schema, validated: catalog is not null)
                : null;
            if (cacheKey is not null && await cache.GetAsync(SqlAssistCacheKey.Route, cacheKey) is { } cached)
                return TypedResults.Bytes(cached, "application/json");
            SqlAssistResponse response;
            await using (var session = await SqlAssistantEngineModel.OpenAsync(generation, pipeline, GenerationOrigin.Of(http, started), model,
                engine.Value.KeepAlive, ct, platform.Value.SqlAnswerTokenLimit))
            {
                response = await assistant.AssistAsync(input, schema, session, ct);
            }
            if (cacheKey is null) return TypedResults.Json(response, SqlJsonContext.Wire.SqlAssistResponse);
            var answer = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(response, SqlJsonContext.Wire.SqlAssistResponse);
            await cache.SetAsync(cacheKey, answer);
            return TypedResults.Bytes(answer, "application/json");
        }
        catch (SqlRefusedException ex)
        {
            return PlatformErrors.BadRequest(ex.Message);
        }
        catch (NpgsqlException ex) when (ex is not PostgresException)
        {
            return PlatformErrors.Error(StatusCodes.Status503ServiceUnavailable, "the database is unavailable: " + ex.Message);
        }
    }

    /// <summary>
    /// The token's tenants as the assistant reads them (<see cref="PlatformUser"/>), so a client's
    /// picker offers exactly the schemas /ai/sql/assist will accept; it does not ask the database.
    /// </summary>
    private static IResult Tenants(HttpContext http) =>
        TypedResults.Json(new SqlTenantsResponse([.. PlatformUser.From(http).Tenants.Order(StringComparer.Ordinal)]), SqlJsonContext.Wire.SqlTenantsResponse);

    /// <summary>The first problem with the request's fields, or null with the parsed action.</summary>
    private static string? Check(SqlAssistRequest req, out SqlAssistAction action)
    {
        action = default;
        if (string.IsNullOrWhiteSpace(req.Action)) return "action is required (generate, explain, optimize or fix)";
        SqlAssistAction? parsed = req.Action switch
        {
            "generate" => SqlAssistAction.Generate,
            "explain" => SqlAssistAction.Explain,
            "optimize" => SqlAssistAction.Optimize,
            "fix" => SqlAssistAction.Fix,
            _ => null,
        };
        if (parsed is not { } known) return $"action must be generate, explain, optimize or fix (got \"{Shorten(req.Action)}\")";
        action = known;
        if (string.IsNullOrWhiteSpace(req.Query))
            return action == SqlAssistAction.Generate ? "query is required: the question to answer with SQL" : "query is required: the SQL statement to " + req.Action;
        if (req.Query.Length > MaxQueryChars) return $"query is longer than {MaxQueryChars} characters";
        if (string.IsNullOrWhiteSpace(req.Schema)) return "schema is required: the tenant schema the SQL is for";
        if (req.Error is not null && action != SqlAssistAction.Fix) return "error is only used with action fix";
        if (req.Error is { Length: > MaxErrorChars }) return $"error is longer than {MaxErrorChars} characters";
        if (req.Ddl is { Length: > MaxDdlChars }) return $"ddl is longer than {MaxDdlChars} characters";
        return null;
    }

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "..." : text;
}
