using Inference.Engine.Generation;
using Inference.Engine.Grammar;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Registry;
using Inference.Engine.Scheduling;
using Inference.Engine.Store;
using Inference.Server.Generation;

namespace Inference.Server.Http;

/// <summary>An error a client must see: its status, message, and (for OpenAI's shape) the request field and code.</summary>
public sealed record ApiError(int Status, string Message, string? Param = null, string? Code = null);

/// <summary>
/// The engine failures a client must see as a status code, with their messages, in one list for every API;
/// each route group's <see cref="EngineErrorFilter"/> writes them in its own shape. Model lookups are described
/// by the group (<see cref="ApiErrorShape.Describe"/>), because each API words a missing model its own way.
/// </summary>
public static class EngineErrors
{
    public static ApiError? Classify(Exception ex) => ex switch
    {
        PromptTooLongException e => new(StatusCodes.Status400BadRequest, e.Message),
        InputTooLongException e => new(StatusCodes.Status400BadRequest, e.Message),
        InvalidOptionException e => new(StatusCodes.Status400BadRequest, e.Message),
        TemplateLimitException e => new(StatusCodes.Status400BadRequest, "template limit: " + e.Message),
        SchedulerFailedException e => new(StatusCodes.Status503ServiceUnavailable, e.Message),
        EmbeddingFailedException e => new(StatusCodes.Status500InternalServerError, e.Message),
        QueueFullException e => new(StatusCodes.Status503ServiceUnavailable, e.Message),
        UnsupportedByModelException e => new(StatusCodes.Status400BadRequest, e.Message),
        TemplateParseException e => new(StatusCodes.Status400BadRequest, "invalid template: " + e.Message),
        TemplateRenderException e => new(StatusCodes.Status400BadRequest, "template error: " + e.Message),
        ModelLoadException e => new(StatusCodes.Status500InternalServerError, e.Message),
        ModelCapacityException e => new(e.InsufficientMemory ? StatusCodes.Status507InsufficientStorage : StatusCodes.Status503ServiceUnavailable, e.Message),
        GenerationFailedException e => new(StatusCodes.Status500InternalServerError, e.Message),
        SchemaNotSupportedException e => new(StatusCodes.Status400BadRequest, "unsupported JSON schema: " + e.Message),
        // Store and registry work (create, copy, pull, blob upload).
        CreateException e => new(e.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest, e.Message),
        InsufficientStorageException e => new(StatusCodes.Status507InsufficientStorage, e.Message),
        BlobDigestMismatchException e => new(StatusCodes.Status400BadRequest, e.Message),
        InvalidManifestException e => new(StatusCodes.Status400BadRequest, e.Message),
        RegistryException e => new((int)e.Status, e.Message),
        _ => null,
    };
}
