using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Inference.Engine.Scheduling;

namespace Inference.Server.Contracts;

// Wire types that more than one API writes. Ollama's routes and the platform's /ai routes share the
// error shape; Ollama's and OpenAI's responses share the log-probability entries.

/// <summary>{"error": "..."}: the error shape of Ollama's routes and of /ai/*.</summary>
public sealed record ErrorResponse([property: JsonPropertyName("error")] string Error);

public sealed record TopLogprobDto(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] float Logprob,
    [property: JsonPropertyName("bytes")] int[] Bytes);

/// <summary>One generated token with its log-probability and the most likely alternatives (Ollama's and OpenAI's shape).</summary>
public sealed record LogprobDto(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] float Logprob,
    [property: JsonPropertyName("bytes")] int[] Bytes,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<TopLogprobDto> TopLogprobs)
{
    public static IReadOnlyList<LogprobDto>? From(IReadOnlyList<TokenLogprob>? logprobs) =>
        logprobs?.Select(l => new LogprobDto(l.Token, l.Logprob, [.. l.Bytes.Select(b => (int)b)],
            l.TopLogprobs.Select(t => new TopLogprobDto(t.Token, t.Logprob, [.. t.Bytes.Select(b => (int)b)])).ToList())).ToList();
}

/// <summary>Source-generated serializers for the shared contracts.</summary>
[JsonSerializable(typeof(ErrorResponse))]
public sealed partial class SharedJsonContext : JsonSerializerContext
{
    /// <summary>Like Go's encoder (and Ollama's context) it leaves quotes and non-ASCII text readable: "model 'x' not found".</summary>
    public static SharedJsonContext Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
