using Microsoft.OpenApi;

namespace Inference.Server.Http;

/// <summary>
/// Documents a JSON request body in the OpenAPI document without making the route demand a
/// Content-Type: Ollama accepts bodies sent as anything (curl -d sends form encoding), and so
/// must we. (.Accepts&lt;T&gt;() would answer those with 415.)
/// </summary>
public static class OpenApiBody
{
    public static RouteHandlerBuilder DocumentsJsonBody<T>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, ct) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, ct);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = schema, Example = Ollama.OllamaExamples.For(typeof(T)) },
                },
            };
        });
}
