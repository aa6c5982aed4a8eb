using System.Text.Json;
using Inference.Engine.Store;
using Inference.Server.Http;

namespace Inference.Server.Anthropic;

/// <summary>Anthropic's error object, {"type": "error", "error": {"type", "message"}}, with the status code that fits.</summary>
public static class AnthropicErrors
{
    /// <summary>The /v1/messages route's error filter shape.</summary>
    public static ApiErrorShape Shape { get; } = new AnthropicErrorShape();

    public static IResult Error(int status, string message) =>
        TypedResults.Json(Body(status, message), AnthropicJsonContext.Wire.AnthropicError, statusCode: status);

    /// <summary>Anthropic's error types by status (its API reference, "Errors").</summary>
    public static AnthropicError Body(int status, string message) => new(new AnthropicErrorBody(status switch
    {
        StatusCodes.Status400BadRequest => "invalid_request_error",
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        StatusCodes.Status503ServiceUnavailable => "overloaded_error",
        _ => status < 500 ? "invalid_request_error" : "api_error",
    }, message));

    /// <summary>For errors written outside the route (body limits, the exception handler).</summary>
    public static Task WriteAsync(HttpContext http, int status, string message) =>
        JsonSerializer.SerializeAsync(http.Response.Body, Body(status, message), AnthropicJsonContext.Wire.AnthropicError, http.RequestAborted);

    private sealed class AnthropicErrorShape : ApiErrorShape
    {
        public override IResult Write(ApiError error) => Error(error.Status, error.Message);

        public override ApiError Describe(ModelLookupException ex) => ex.Problem switch
        {
            ModelProblem.Required => new(StatusCodes.Status400BadRequest, "model: Field required"),
            ModelProblem.NotFound or ModelProblem.InvalidName =>
                new(StatusCodes.Status404NotFound, $"model \"{Echo.Bounded(ex.Requested)}\" not found, try pulling it first"),
            ModelProblem.Unusable => new(StatusCodes.Status400BadRequest, $"model \"{Echo.Bounded(ex.Requested)}\" cannot be {ex.Verb}: {ex.Message}"),
            ModelProblem.Broken => new(StatusCodes.Status500InternalServerError, $"model \"{Echo.Bounded(ex.Requested)}\" cannot be {ex.Verb}: {ex.Message}"),
            _ => new(StatusCodes.Status503ServiceUnavailable, ex.Message),
        };
    }
}
