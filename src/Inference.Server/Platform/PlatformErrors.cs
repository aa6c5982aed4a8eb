using Inference.Server.Http;
using Inference.Server.Ollama;

namespace Inference.Server.Platform;

/// <summary>Errors of the /ai/* routes: the same {"error": "..."} shape as the Ollama routes.</summary>
public static class PlatformErrors
{
    public static ApiErrorShape Shape => OllamaErrors.Shape;
    public static IResult Error(int status, string message) => OllamaErrors.Error(status, message);
    public static IResult BadRequest(string message) => Error(StatusCodes.Status400BadRequest, message);
    public static IResult Forbidden(string message) => Error(StatusCodes.Status403Forbidden, message);
}
