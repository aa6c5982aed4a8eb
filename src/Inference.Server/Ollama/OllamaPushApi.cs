using Inference.Engine.Backend;
using Inference.Engine.Registry;
using Inference.Engine.Store;
using Inference.Server.Contracts;
using Inference.Server.Http;
using Microsoft.Extensions.Options;

namespace Inference.Server.Ollama;

/// <summary>
/// POST /api/push: sends a stored model to the registry its name points at (<see cref="ModelPusher"/>), streaming
/// Ollama's progress objects. The request has the fields of a pull (model or name, insecure, stream), as in Ollama.
/// </summary>
public static class OllamaPushApi
{
    /// <summary>The push services: an upload client that follows no redirects (model bytes go only where the name says), and the pusher.</summary>
    public static IServiceCollection AddModelPush(this IServiceCollection services)
    {
        // Uploads of large blobs can take hours: no overall timeout, the client's disconnect cancels.
        services.AddHttpClient<RegistryUploadClient>(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddTransient(sp => new ModelPusher(sp.GetRequiredService<ModelStore>(), sp.GetRequiredService<RegistryUploadClient>(),
            sp.GetRequiredService<IOptions<EngineOptions>>().Value.PushChunkBytes));
        return services;
    }

    public static IEndpointRouteBuilder MapOllamaPushApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api").WithTags("Ollama").WithEngineErrors(OllamaErrors.Shape).MapPost("/push", PushAsync).DocumentsJsonBody<PullRequest>()
            .Produces<PullProgressResponse>(StatusCodes.Status200OK, "application/json", Ndjson.ContentType)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound).Produces<ErrorResponse>(StatusCodes.Status502BadGateway)
            .WithSummary("Push a model to a registry");
        return app;
    }

    private static async Task<IResult> PushAsync(HttpContext http, ModelStore store, ModelPusher pusher)
    {
        var ct = http.RequestAborted;
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.PullRequest, ct);
        if (req is null) return OllamaErrors.BadRequest(bodyError!);
        var text = req.Model ?? req.Name;
        if (string.IsNullOrWhiteSpace(text)) return OllamaErrors.BadRequest("model is required");
        if (!ModelName.TryParse(text, out var name, out var nameError)) return OllamaErrors.BadRequest(nameError);
        var manifest = ModelLookup.Read(text, "pushed", () => store.GetManifest(name));
        if (manifest is null) return OllamaErrors.ModelNotFound(text);

        // The response starts with the first blob's first event ("retrieving manifest" comes before it), so a
        // registry that cannot be reached or refuses the first step still answers with its status code.
        return await ProgressStream.RunAsync<PullProgress>(http, req.Stream != false, eventsBeforeStream: 2,
            (report, token) => pusher.PushAsync(name, manifest, req.Insecure == true, report, token),
            (p, token) => Ndjson.WriteAsync(http.Response,
                new PullProgressResponse { Status = p.Status, Digest = p.Digest, Total = p.Total, Completed = p.Completed },
                OllamaJsonContext.Wire.PullProgressResponse, token),
            () => TypedResults.Json(new StatusResponse("success"), OllamaJsonContext.Wire.StatusResponse));
    }
}
