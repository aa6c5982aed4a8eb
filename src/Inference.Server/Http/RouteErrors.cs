using System.Text.Json;
using Inference.Server.Anthropic;
using Inference.Server.Contracts;
using Inference.Server.OpenAI;

namespace Inference.Server.Http;

/// <summary>
/// Errors written outside a route handler (middleware, the exception handler) in the shape of the
/// API the request was for: Anthropic's error object under /v1/messages, OpenAI's elsewhere under /v1, {"error": "..."} everywhere else
/// (Ollama's routes and the platform's /ai routes share that shape).
/// </summary>
public static class RouteErrors
{
    public static async Task WriteAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        if (http.Request.Path.StartsWithSegments("/v1/messages"))
        {
            await AnthropicErrors.WriteAsync(http, status, message);
        }
        else if (http.Request.Path.StartsWithSegments("/v1"))
        {
            var type = status < 500 ? "invalid_request_error" : "server_error";
            await JsonSerializer.SerializeAsync(http.Response.Body, new OpenAIError(new OpenAIErrorBody(message, type, null, null)),
                OpenAIJsonContext.Wire.OpenAIError, http.RequestAborted);
        }
        else
        {
            await JsonSerializer.SerializeAsync(http.Response.Body, new ErrorResponse(message),
                SharedJsonContext.Wire.ErrorResponse, http.RequestAborted);
        }
    }
}
