using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Server.Contracts;
using Inference.Server.Http;
using Microsoft.Extensions.Options;

namespace Inference.Server.Ollama;

public sealed record EmbedRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    /// <summary>A string or an array of strings.</summary>
    [JsonPropertyName("input")] public JsonElement? Input { get; init; }
    [JsonPropertyName("truncate")] public bool? Truncate { get; init; }
    [JsonPropertyName("dimensions")] public int? Dimensions { get; init; }
    [JsonPropertyName("options")] public ModelOptions? Options { get; init; }
    [JsonPropertyName("keep_alive")] public JsonElement? KeepAlive { get; init; }
}

public sealed record EmbedResponse
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("embeddings")] public required IReadOnlyList<float[]> Embeddings { get; init; }
    [JsonPropertyName("total_duration")] public long TotalDuration { get; init; }
    [JsonPropertyName("load_duration")] public long LoadDuration { get; init; }
    [JsonPropertyName("prompt_eval_count")] public int PromptEvalCount { get; init; }
}

/// <summary>The legacy single-prompt form.</summary>
public sealed record LegacyEmbeddingsRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("prompt")] public string? Prompt { get; init; }
    [JsonPropertyName("options")] public ModelOptions? Options { get; init; }
    [JsonPropertyName("keep_alive")] public JsonElement? KeepAlive { get; init; }
}

public sealed record LegacyEmbeddingsResponse([property: JsonPropertyName("embedding")] float[] Embedding);

/// <summary>POST /api/embed (batched, normalized) and the legacy POST /api/embeddings.</summary>
public static class OllamaEmbedApi
{
    public static IEndpointRouteBuilder MapOllamaEmbedApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Ollama").WithEngineErrors(OllamaErrors.Shape);
        api.MapPost("/embed", EmbedAsync).DocumentsJsonBody<EmbedRequest>().Produces<EmbedResponse>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).WithSummary("Generate embeddings");
        api.MapPost("/embeddings", LegacyAsync).DocumentsJsonBody<LegacyEmbeddingsRequest>().Produces<LegacyEmbeddingsResponse>()
            .WithSummary("Generate an embedding (legacy)");
        return app;
    }

    private static async Task<IResult> EmbedAsync(HttpContext http, ModelCatalog catalog, EmbeddingService embeddings, IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.EmbedRequest, http.RequestAborted);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        var model = ModelLookup.Resolve(req.Model, catalog);
        List<string> inputs;
        switch (req.Input)
        {
            case { ValueKind: JsonValueKind.String } s:
                inputs = [s.GetString()!];
                break;
            case { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String):
                inputs = a.EnumerateArray().Select(e => e.GetString()!).ToList();
                break;
            case null or { ValueKind: JsonValueKind.Null }:
                inputs = [];
                break;
            default:
                return OllamaErrors.BadRequest("input must be a string or an array of strings");
        }
        if (req.Dimensions is < 1) return OllamaErrors.BadRequest("dimensions must be a positive number");
        if (!RequestSettings.TryRead(req.Options, req.KeepAlive, engine.Value, out var options, out var keepAlive, out var invalid)) return invalid;
        if (inputs.Count == 0 || inputs.Any(i => i.Length == 0)) return OllamaErrors.BadRequest("input must not be empty");
        if (inputs.Count > EmbeddingService.MaxInputs) return OllamaErrors.BadRequest($"input must hold at most {EmbeddingService.MaxInputs} strings");

        var result = await embeddings.EmbedAsync(model, inputs, req.Truncate ?? true, req.Dimensions, options, keepAlive, http.RequestAborted);
        return TypedResults.Json(new EmbedResponse
        {
            Model = req.Model!,
            Embeddings = result.Vectors,
            TotalDuration = Stopwatch.GetElapsedTime(started).Ticks * 100,
            LoadDuration = result.LoadDuration.Ticks * 100,
            PromptEvalCount = result.PromptTokens,
        }, OllamaJsonContext.Wire.EmbedResponse);
    }

    private static async Task<IResult> LegacyAsync(HttpContext http, ModelCatalog catalog, EmbeddingService embeddings, IOptions<EngineOptions> engine)
    {
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.LegacyEmbeddingsRequest, http.RequestAborted);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        var model = ModelLookup.Resolve(req.Model, catalog);
        if (!RequestSettings.TryRead(req.Options, req.KeepAlive, engine.Value, out var options, out var keepAlive, out var invalid)) return invalid;
        // Ollama answers an empty prompt with an empty embedding.
        if (string.IsNullOrEmpty(req.Prompt)) return TypedResults.Json(new LegacyEmbeddingsResponse([]), OllamaJsonContext.Wire.LegacyEmbeddingsResponse);
        var result = await embeddings.EmbedAsync(model, [req.Prompt], truncate: true, null, options, keepAlive, http.RequestAborted);
        return TypedResults.Json(new LegacyEmbeddingsResponse(result.Vectors[0]), OllamaJsonContext.Wire.LegacyEmbeddingsResponse);
    }
}
