using Inference.Engine.Store;
using Inference.Server.Http;

namespace Inference.Server.OpenAI;

/// <summary>OpenAI's error object: {"error": {"message", "type", "param", "code"}} with the status code that fits.</summary>
public static class OpenAIErrors
{
    /// <summary>The /v1 routes' error filter shape.</summary>
    public static ApiErrorShape Shape { get; } = new OpenAIErrorShape();

    public static IResult Error(int status, string message, string? param = null, string? code = null) =>
        TypedResults.Json(Body(status, message, param, code), OpenAIJsonContext.Wire.OpenAIError, statusCode: status);

    public static OpenAIError Body(int status, string message, string? param = null, string? code = null) =>
        new(new OpenAIErrorBody(message, status switch
        {
            StatusCodes.Status404NotFound or StatusCodes.Status400BadRequest => "invalid_request_error",
            StatusCodes.Status503ServiceUnavailable or StatusCodes.Status507InsufficientStorage => "server_error",
            _ => "api_error",
        }, param, code));

    private sealed class OpenAIErrorShape : ApiErrorShape
    {
        public override IResult Write(ApiError error) => Error(error.Status, error.Message, error.Param, error.Code);

        public override ApiError Describe(ModelLookupException ex) => ex.Problem switch
        {
            ModelProblem.Required => new(StatusCodes.Status400BadRequest, "you must provide a model parameter", "model"),
            // OpenAI has no notion of a malformed name: it is a model that does not exist.
            ModelProblem.NotFound or ModelProblem.InvalidName =>
                new(StatusCodes.Status404NotFound, $"model \"{Echo.Bounded(ex.Requested)}\" not found, try pulling it first", "model", "model_not_found"),
            ModelProblem.Unusable => new(StatusCodes.Status400BadRequest, $"model \"{Echo.Bounded(ex.Requested)}\" cannot be {ex.Verb}: {ex.Message}", "model"),
            ModelProblem.Broken => new(StatusCodes.Status500InternalServerError, $"model \"{Echo.Bounded(ex.Requested)}\" cannot be {ex.Verb}: {ex.Message}", "model"),
            _ => new(StatusCodes.Status503ServiceUnavailable, ex.Message),
        };
    }
}
