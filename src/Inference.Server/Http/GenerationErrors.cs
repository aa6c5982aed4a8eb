using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Scheduling;

namespace Inference.Server.Http;

/// <summary>
/// The engine failures a client must see as a status code, with their messages; each API turns
/// them into its own error shape (Ollama's {"error": "..."}, OpenAI's error object).
/// </summary>
public static class GenerationErrors
{
    public static (int Status, string Message)? Classify(Exception ex) => ex switch
    {
        PromptTooLongException e => (StatusCodes.Status400BadRequest, e.Message),
        InputTooLongException e => (StatusCodes.Status400BadRequest, e.Message),
        InvalidOptionException e => (StatusCodes.Status400BadRequest, e.Message),
        TemplateLimitException e => (StatusCodes.Status400BadRequest, "template limit: " + e.Message),
        SchedulerFailedException e => (StatusCodes.Status503ServiceUnavailable, e.Message),
        EmbeddingFailedException e => (StatusCodes.Status500InternalServerError, e.Message),
        QueueFullException e => (StatusCodes.Status503ServiceUnavailable, e.Message),
        UnsupportedByModelException e => (StatusCodes.Status400BadRequest, e.Message),
        TemplateParseException e => (StatusCodes.Status400BadRequest, "invalid template: " + e.Message),
        TemplateRenderException e => (StatusCodes.Status400BadRequest, "template error: " + e.Message),
        ModelLoadException e => (StatusCodes.Status500InternalServerError, e.Message),
        ModelCapacityException e => (e.InsufficientMemory ? StatusCodes.Status507InsufficientStorage : StatusCodes.Status503ServiceUnavailable, e.Message),
        _ => null,
    };
}
