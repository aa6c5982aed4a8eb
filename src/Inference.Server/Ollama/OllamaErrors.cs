using Inference.Engine.Store;

namespace Inference.Server.Ollama;

/// <summary>Ollama's error shape: {"error": "..."} with the status code that fits.</summary>
public static class OllamaErrors
{
    public static IResult Error(int status, string message) =>
        TypedResults.Json(new ErrorResponse(message), OllamaJsonContext.Wire.ErrorResponse, statusCode: status);

    public static IResult BadRequest(string message) => Error(StatusCodes.Status400BadRequest, message);
    public static IResult ModelNotFound(string name) => Error(StatusCodes.Status404NotFound, $"model '{Echo.Bounded(name)}' not found");
}
