using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace Inference.LoadTool;

/// <summary>
/// Sends one streaming request (POST /api/generate, or POST /v1/completions with --api openai-completions)
/// and times the lines as they arrive.
/// </summary>
public sealed class GenerateClient(HttpClient http, LoadOptions options)
{
    public static HttpClient CreateHttpClient(LoadOptions options) =>
        // One connection per client (plus slack) so concurrency is not throttled by the pool; the
        // per-request timeout is enforced by a CancellationToken instead of HttpClient.Timeout.
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Clients + 4,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            // Servers close idle keep-alive connections (llama-server's HTTP library after 5 s), and a POST
            // sent on a connection the server has just closed fails without a retry. Dropping idle
            // connections after 1 s makes a new one instead (microseconds on loopback).
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1),
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = new Uri(options.Url.TrimEnd('/') + "/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };

    public async Task<RequestResult> RunAsync(int index, string prompt, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
        var openAI = options.Api == ApiKind.OpenAICompletions;
        // A new content object per try: sending disposes the request and its content.
        HttpContent Content() => openAI
            ? JsonContent.Create(new CompletionRequest(options.Model, prompt, true, new StreamOptions(true),
                options.OutputTokens, options.Temperature, options.Seed, options.RepeatPenalty, options.RepeatLastN))
            : JsonContent.Create(new GenerateRequest(options.Model, prompt, true,
                new GenerateOptions(options.OutputTokens, options.Temperature, options.Seed, options.RepeatPenalty, options.RepeatLastN)));

        IResponseStream stream = openAI ? new CompletionStream(Stopwatch.GetTimestamp()) : new GenerateStream(Stopwatch.GetTimestamp());
        int? status = null;
        bool resent = false;
        try
        {
            var (resp, start, wasResent) = await ResendOnClosedConnection.SendAsync(http,
                () => new HttpRequestMessage(HttpMethod.Post, openAI ? "v1/completions" : "api/generate") { Content = Content() },
                HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            using var _ = resp;
            resent = wasResent;
            if (resent) stream = openAI ? new CompletionStream(start) : new GenerateStream(start);
            status = (int)resp.StatusCode;
            if (!resp.IsSuccessStatusCode)
            {
                var text = await resp.Content.ReadAsStringAsync(timeout.Token);
                stream.Fail($"HTTP {status}: {Truncate(text)}");
            }
            else
            {
                await using var s = await resp.Content.ReadAsStreamAsync(timeout.Token);
                using var reader = new StreamReader(s);
                while (await reader.ReadLineAsync(timeout.Token) is { } line)
                {
                    stream.OnLine(line, Stopwatch.GetTimestamp());
                    if (stream.Done) break;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            stream.Fail($"timeout after {options.TimeoutSeconds}s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            stream.Fail($"{e.GetType().Name}: {e.Message}");
        }
        return stream.Complete(index, status, Stopwatch.GetTimestamp()) with { Resent = resent };
    }

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";

    private sealed record GenerateRequest(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("prompt")] string Prompt,
        [property: JsonPropertyName("stream")] bool Stream,
        [property: JsonPropertyName("options")] GenerateOptions Options);

    private sealed record GenerateOptions(
        [property: JsonPropertyName("num_predict")] int NumPredict,
        [property: JsonPropertyName("temperature")] double Temperature,
        [property: JsonPropertyName("seed")] int Seed,
        [property: JsonPropertyName("repeat_penalty")] double RepeatPenalty,
        [property: JsonPropertyName("repeat_last_n")] int RepeatLastN);

    /// <summary>OpenAI's completion request; repeat_penalty and repeat_last_n are llama-server's extra fields (ours ignores them).</summary>
    private sealed record CompletionRequest(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("prompt")] string Prompt,
        [property: JsonPropertyName("stream")] bool Stream,
        [property: JsonPropertyName("stream_options")] StreamOptions StreamOptions,
        [property: JsonPropertyName("max_tokens")] int MaxTokens,
        [property: JsonPropertyName("temperature")] double Temperature,
        [property: JsonPropertyName("seed")] int Seed,
        [property: JsonPropertyName("repeat_penalty")] double RepeatPenalty,
        [property: JsonPropertyName("repeat_last_n")] int RepeatLastN);

    private sealed record StreamOptions([property: JsonPropertyName("include_usage")] bool IncludeUsage);
}
