using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Server.Contracts;
using Inference.Server.Http;

namespace Inference.Server.Ollama;

public sealed record TokenizeRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("content")] public string? Content { get; init; }
}

public sealed record TokenizeResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("tokens")] int[] Tokens);

public sealed record DetokenizeRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    /// <summary>Read as 64-bit numbers so that an id too large for llama.cpp is refused by name rather than as unreadable JSON.</summary>
    [JsonPropertyName("tokens")] public long[]? Tokens { get; init; }
}

public sealed record DetokenizeResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("content")] string Content);

[JsonSerializable(typeof(TokenizeRequest))]
[JsonSerializable(typeof(TokenizeResponse))]
[JsonSerializable(typeof(DetokenizeRequest))]
[JsonSerializable(typeof(DetokenizeResponse))]
internal sealed partial class TokenizeJsonContext : JsonSerializerContext
{
    public static TokenizeJsonContext Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}

/// <summary>
/// POST /api/tokenize and /api/detokenize (as llama-server and vLLM have them; Ollama has none): a model's
/// vocabulary without loading the model into a scheduler (see <see cref="Vocabularies"/>).
/// </summary>
public static class OllamaTokenizeApi
{
    public static IEndpointRouteBuilder MapOllamaTokenizeApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Ollama").WithEngineErrors(OllamaErrors.Shape);
        api.MapPost("/tokenize", TokenizeAsync).DocumentsJsonBody<TokenizeRequest>().Produces<TokenizeResponse>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .WithSummary("Tokenize text with a model's vocabulary (without loading the model)");
        api.MapPost("/detokenize", DetokenizeAsync).DocumentsJsonBody<DetokenizeRequest>().Produces<DetokenizeResponse>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .WithSummary("Turn token ids back into text with a model's vocabulary (without loading the model)");
        return app;
    }

    private static async Task<IResult> TokenizeAsync(HttpContext http, ModelCatalog catalog, Vocabularies vocabularies)
    {
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, TokenizeJsonContext.Wire.TokenizeRequest, http.RequestAborted);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        var model = ModelLookup.Resolve(req.Model, catalog);
        if (req.Content is null) return OllamaErrors.BadRequest("content is required");
        var tokens = await vocabularies.TokenizeAsync(model, req.Content, http.RequestAborted);
        return TypedResults.Json(new TokenizeResponse(req.Model!, tokens), TokenizeJsonContext.Wire.TokenizeResponse);
    }

    private static async Task<IResult> DetokenizeAsync(HttpContext http, ModelCatalog catalog, Vocabularies vocabularies)
    {
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, TokenizeJsonContext.Wire.DetokenizeRequest, http.RequestAborted);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        var model = ModelLookup.Resolve(req.Model, catalog);
        if (req.Tokens is null) return OllamaErrors.BadRequest("tokens is required");
        try
        {
            var content = await vocabularies.DetokenizeAsync(model, req.Tokens, http.RequestAborted);
            return TypedResults.Json(new DetokenizeResponse(req.Model!, content), TokenizeJsonContext.Wire.DetokenizeResponse);
        }
        catch (TokenOutOfRangeException e)
        {
            return OllamaErrors.BadRequest(e.Message);
        }
    }
}
