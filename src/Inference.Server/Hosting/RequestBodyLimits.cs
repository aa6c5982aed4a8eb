using Inference.Server.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Inference.Server.Hosting;

/// <summary>
/// How large a request body each route may send, in one table. Generation routes carry prompts (a
/// million-token context is a few MB of text); model management carries small JSON; a blob upload
/// is a whole GGUF file streamed to disk, so it has no limit. Kestrel's own default (30 MB) would
/// refuse real model uploads and is far more than small JSON needs.
/// </summary>
public static class RequestBodyLimits
{
    public const long Small = 1L << 20;
    public const long Create = 8L << 20;
    public const long Generation = 16L << 20;

    private static readonly string[] GenerationPaths =
        ["/api/generate", "/api/chat", "/api/embed", "/api/embeddings", "/api/tokenize", "/api/detokenize", "/v1/chat/completions",
        "/v1/completions", "/v1/embeddings", "/v1/messages", "/v1/responses"];

    /// <summary>The limit for a path in bytes; null = unlimited.</summary>
    public static long? For(PathString path)
    {
        if (path.StartsWithSegments("/api/blobs")) return null;
        if (path.StartsWithSegments("/api/create")) return Create;
        if (path.StartsWithSegments("/ai") || GenerationPaths.Any(p => path.StartsWithSegments(p))) return Generation;
        return Small;
    }

    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var limit = For(http.Request.Path);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = limit;
        if (limit is { } max && http.Request.ContentLength > max)
        {
            // Refused before a byte is read; a body without Content-Length is cut by Kestrel at the same limit.
            await RouteErrors.WriteAsync(http, StatusCodes.Status413PayloadTooLarge, TooLarge(max));
            return;
        }
        await next(http);
    });

    public static string TooLarge(long max) => $"request body too large: this route accepts at most {max >> 20} MiB";
}
