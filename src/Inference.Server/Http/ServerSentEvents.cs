using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Inference.Server.Http;

/// <summary>Server-sent events as OpenAI streams them: "data: {json}\n\n", ending with "data: [DONE]".</summary>
public static class ServerSentEvents
{
    // Written around every event: one array each for the process, not one per token.
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static void Start(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public static async Task WriteAsync<T>(HttpResponse response, T value, JsonTypeInfo<T> type, CancellationToken ct)
    {
        await response.Body.WriteAsync(DataPrefix, ct);
        await JsonSerializer.SerializeAsync(response.Body, value, type, ct);
        await response.Body.WriteAsync(EventEnd, ct);
        await response.Body.FlushAsync(ct);
    }

    /// <summary>A named event ("event: name"), for streams whose events differ in shape.</summary>
    public static async Task WriteEventAsync<T>(HttpResponse response, string name, T value, JsonTypeInfo<T> type, CancellationToken ct)
    {
        await response.Body.WriteAsync(System.Text.Encoding.UTF8.GetBytes("event: " + name + "\n"), ct);
        await WriteAsync(response, value, type, ct);
    }

    public static async Task DoneAsync(HttpResponse response, CancellationToken ct)
    {
        await response.Body.WriteAsync(Done, ct);
        await response.Body.FlushAsync(ct);
    }
}
