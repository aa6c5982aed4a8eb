using System.Text.Json.Serialization;
using Inference.Engine.Registry;
using Inference.Engine.Store;
using Inference.Server.Contracts;
using Inference.Server.Http;

namespace Inference.Server.Ollama;

public sealed record PullRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("insecure")] public bool? Insecure { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
}

public sealed record PullProgressResponse
{
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("digest")] public string? Digest { get; init; }
    [JsonPropertyName("total")] public long? Total { get; init; }
    [JsonPropertyName("completed")] public long? Completed { get; init; }
}

/// <summary>POST /api/pull: streams Ollama's progress objects while <see cref="ModelPuller"/> works.</summary>
public static class OllamaPullApi
{
    public static IEndpointRouteBuilder MapOllamaPullApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api").WithTags("Ollama").WithEngineErrors(OllamaErrors.Shape).MapPost("/pull", PullAsync).DocumentsJsonBody<PullRequest>()
            .Produces<PullProgressResponse>(StatusCodes.Status200OK, "application/json", Ndjson.ContentType)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound).Produces<ErrorResponse>(StatusCodes.Status507InsufficientStorage)
            .WithSummary("Pull a model from a registry");
        return app;
    }

    private static async Task<IResult> PullAsync(HttpContext http, ModelPuller puller)
    {
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.PullRequest, ct);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        var text = req.Model ?? req.Name;
        if (string.IsNullOrWhiteSpace(text)) return OllamaErrors.BadRequest("model is required");
        if (!ModelName.TryParse(text, out var name, out var nameError)) return OllamaErrors.BadRequest(nameError);

        // The response starts only once the manifest was found: "pulling manifest", then the next event.
        // A registry error before that keeps its status code.
        return await ProgressStream.RunAsync<PullProgress>(http, req.Stream != false, eventsBeforeStream: 2,
            (report, token) => puller.PullAsync(name, req.Insecure == true, report, token),
            (p, token) => Write(http, p, token),
            () => TypedResults.Json(new StatusResponse("success"), OllamaJsonContext.Wire.StatusResponse));
    }

    private static Task Write(HttpContext http, PullProgress p, CancellationToken ct) =>
        Ndjson.WriteAsync(http.Response, new PullProgressResponse { Status = p.Status, Digest = p.Digest, Total = p.Total, Completed = p.Completed },
            OllamaJsonContext.Wire.PullProgressResponse, ct);
}
