using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Inference.Server.Http;

/// <summary>Newline-delimited JSON streaming, one object per line, flushed as soon as it is written.</summary>
public static class Ndjson
{
    public const string ContentType = "application/x-ndjson";

    // Written after every line: one array for the process, not one per token.
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    public static void Start(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        // Proxies must not buffer a token stream.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public static async Task WriteAsync<T>(HttpResponse response, T value, JsonTypeInfo<T> type, CancellationToken ct)
    {
        await JsonSerializer.SerializeAsync(response.Body, value, type, ct);
        await response.Body.WriteAsync(NewLine, ct);
        await response.Body.FlushAsync(ct);
    }
}
