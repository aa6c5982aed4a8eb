using System.Text.Json.Serialization;
using System.Threading.Channels;
using Inference.Engine.Registry;
using Inference.Engine.Store;
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
        app.MapGroup("/api").WithTags("Ollama").MapPost("/pull", PullAsync).DocumentsJsonBody<PullRequest>()
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

        // The puller runs on its own; progress flows through a channel so the response can start
        // only once the manifest was found (a registry error before that keeps its status code).
        var progress = Channel.CreateUnbounded<PullProgress>();
        var work = Task.Run(async () =>
        {
            try
            {
                await puller.PullAsync(name, req.Insecure == true, p => progress.Writer.TryWrite(p), ct);
                progress.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                progress.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);

        var reader = progress.Reader;
        try
        {
            // "pulling manifest", then the first event after the manifest arrived (or the error).
            if (!await reader.WaitToReadAsync(ct) || !reader.TryRead(out var first) || !await reader.WaitToReadAsync(ct))
                return await CompleteAsync(work);
            if (req.Stream == false)
            {
                await foreach (var _ in reader.ReadAllAsync(ct)) { }
                return TypedResults.Json(new StatusResponse("success"), OllamaJsonContext.Wire.StatusResponse);
            }
            Ndjson.Start(http.Response);
            await Write(http, first, ct);
            try
            {
                await foreach (var p in reader.ReadAllAsync(ct)) await Write(http, p, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // The 200 header is out: the stream ends with Ollama's error object instead of being cut.
                // The puller has already removed what it must not leave behind.
                await Ndjson.WriteAsync(http.Response, new ErrorResponse(PullFailure(ex)?.Message ?? "internal server error"), OllamaJsonContext.Wire.ErrorResponse, ct);
            }
            return Results.Empty;
        }
        catch (Exception ex) when (PullFailure(ex) is { } failure)
        {
            return OllamaErrors.Error(failure.Status, failure.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Results.Empty; // the client left; what was downloaded stays for a resume
        }
    }

    /// <summary>The status and message for a pull that failed in a way the client should be told; null for an unexpected failure.</summary>
    private static (int Status, string Message)? PullFailure(Exception ex) => ex switch
    {
        RegistryException r => ((int)r.Status, r.Message),
        InsufficientStorageException s => (StatusCodes.Status507InsufficientStorage, s.Message),
        _ => null,
    };

    private static async Task<IResult> CompleteAsync(Task work)
    {
        await work;
        return TypedResults.Json(new StatusResponse("success"), OllamaJsonContext.Wire.StatusResponse);
    }

    private static Task Write(HttpContext http, PullProgress p, CancellationToken ct) =>
        Ndjson.WriteAsync(http.Response, new PullProgressResponse { Status = p.Status, Digest = p.Digest, Total = p.Total, Completed = p.Completed },
            OllamaJsonContext.Wire.PullProgressResponse, ct);
}
