namespace Inference.Server.Http;

/// <summary>An API's error shape: how it writes an error, and how it words a model that cannot be used.</summary>
public abstract class ApiErrorShape
{
    public abstract IResult Write(ApiError error);

    public abstract ApiError Describe(ModelLookupException ex);

    /// <summary>The client-facing error for a failure, or null for one that is a bug (the exception handler answers 500).</summary>
    public ApiError? Describe(Exception ex) => ex is ModelLookupException m ? Describe(m) : EngineErrors.Classify(ex);
}

/// <summary>
/// The one place where a route group's engine failures become responses: handlers let them propagate, and
/// this filter writes them in the group's shape. A client that went away gets nothing. Once a stream has
/// started its status is sent: the stream's writer reports failures as an in-stream error event, and the
/// filter only ends the response.
/// </summary>
public sealed class EngineErrorFilter(ApiErrorShape shape) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty; // the client went away; the scheduler frees its sequences at the next step
        }
        catch (Exception ex) when (shape.Describe(ex) is { } error)
        {
            return http.Response.HasStarted ? Results.Empty : shape.Write(error);
        }
    }
}

public static class EngineErrorFilterExtensions
{
    /// <summary>Maps the engine's failures on every route of the group to the group's error shape.</summary>
    public static RouteGroupBuilder WithEngineErrors(this RouteGroupBuilder group, ApiErrorShape shape)
    {
        group.AddEndpointFilter(new EngineErrorFilter(shape));
        return group;
    }
}
