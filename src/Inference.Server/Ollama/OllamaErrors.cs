using Inference.Engine.Store;
using Inference.Server.Contracts;
using Inference.Server.Http;

namespace Inference.Server.Ollama;

/// <summary>Ollama's error shape: {"error": "..."} with the status code that fits.</summary>
public static class OllamaErrors
{
    /// <summary>The Ollama routes' error filter shape (the /ai routes share it).</summary>
    public static ApiErrorShape Shape { get; } = new OllamaErrorShape();

    public static IResult Error(int status, string message) =>
        TypedResults.Json(new ErrorResponse(message), SharedJsonContext.Wire.ErrorResponse, statusCode: status);

    public static IResult BadRequest(string message) => Error(StatusCodes.Status400BadRequest, message);
    public static IResult ModelNotFound(string name) => Error(StatusCodes.Status404NotFound, NotFoundMessage(name));

    private static string NotFoundMessage(string name) => $"model '{Echo.Bounded(name)}' not found";

    private sealed class OllamaErrorShape : ApiErrorShape
    {
        public override IResult Write(ApiError error) => Error(error.Status, error.Message);

        public override ApiError Describe(ModelLookupException ex) => ex.Problem switch
        {
            ModelProblem.NotFound => new(StatusCodes.Status404NotFound, NotFoundMessage(ex.Requested)),
            ModelProblem.Unusable => new(StatusCodes.Status400BadRequest,
                $"model '{Echo.Bounded(ex.Requested)}' cannot be {ex.Verb}: {ex.Message}; delete it and pull or create it again"),
            ModelProblem.Broken => new(StatusCodes.Status500InternalServerError, $"model '{Echo.Bounded(ex.Requested)}' cannot be {ex.Verb}: {ex.Message}"),
            ModelProblem.NoneInstalled => new(StatusCodes.Status503ServiceUnavailable, ex.Message),
            _ => new(StatusCodes.Status400BadRequest, ex.Message),
        };
    }
}
