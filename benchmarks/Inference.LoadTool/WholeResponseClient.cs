using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.LoadTool;

/// <summary>
/// One non-streamed greedy request, answered in one JSON object: ours through Ollama's POST /api/generate
/// (stream false), llama-server through its native POST /completion. Where per-token overhead dominates (a tiny
/// model), this is the scheduler and the engine without the streaming writers.
/// </summary>
public sealed class WholeResponseClient(HttpClient http, bool llamaServer, string model, int outputTokens, double timeoutSeconds)
{
    public async Task<RequestResult> RunAsync(int index, string prompt, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        // Greedy with Ollama's default repeat penalty on both (ours applies it unless told otherwise).
        object body = llamaServer
            ? new CompletionBody(prompt, outputTokens, 0, 1.1, 64)
            : new GenerateBody(model, prompt, false, new GenerateOptions(outputTokens, 0, 1.1, 64));
        var start = Stopwatch.GetTimestamp();
        int? status = null;
        try
        {
            var (response, sent, resent) = await ResendOnClosedConnection.SendAsync(http,
                () => new HttpRequestMessage(HttpMethod.Post, llamaServer ? "completion" : "api/generate") { Content = JsonContent.Create(body) },
                HttpCompletionOption.ResponseContentRead, timeout.Token);
            using var _ = response;
            start = sent;
            status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            var totalMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!response.IsSuccessStatusCode) return Failed(index, status, $"HTTP {status}: {text[..Math.Min(text.Length, 200)]}", totalMs);
            return Parse(index, status.Value, text, llamaServer, totalMs) with { Resent = resent };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Failed(index, status, $"timeout after {timeoutSeconds}s", Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return Failed(index, status, $"{e.GetType().Name}: {e.Message}", Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    /// <summary>
    /// The answer's text and token counts: Ollama's response, eval_count, prompt_eval_count; llama-server's content,
    /// tokens_predicted, tokens_evaluated. The first token is only known when the whole answer is: TTFT is its time.
    /// </summary>
    public static RequestResult Parse(int index, int status, string json, bool llamaServer, double totalMs)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        string text = root.TryGetProperty(llamaServer ? "content" : "response", out var t) ? t.GetString() ?? "" : "";
        int Int(string name) => root.TryGetProperty(name, out var v) && v.TryGetInt32(out var n) ? n : 0;
        return new RequestResult
        {
            Index = index,
            StatusCode = status,
            Text = text,
            EvalCount = Int(llamaServer ? "tokens_predicted" : "eval_count"),
            PromptEvalCount = Int(llamaServer ? "tokens_evaluated" : "prompt_eval_count"),
            TtftMs = totalMs,
            FinishMs = totalMs,
            TotalMs = totalMs,
        };
    }

    private static RequestResult Failed(int index, int? status, string error, double totalMs) =>
        new() { Index = index, StatusCode = status, Error = error, TotalMs = totalMs };

    private sealed record GenerateBody(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("prompt")] string Prompt,
        [property: JsonPropertyName("stream")] bool Stream,
        [property: JsonPropertyName("options")] GenerateOptions Options);

    private sealed record GenerateOptions(
        [property: JsonPropertyName("num_predict")] int NumPredict,
        [property: JsonPropertyName("temperature")] double Temperature,
        [property: JsonPropertyName("repeat_penalty")] double RepeatPenalty,
        [property: JsonPropertyName("repeat_last_n")] int RepeatLastN);

    /// <summary>llama-server's native completion request (cache_prompt is its default).</summary>
    private sealed record CompletionBody(
        [property: JsonPropertyName("prompt")] string Prompt,
        [property: JsonPropertyName("n_predict")] int NPredict,
        [property: JsonPropertyName("temperature")] double Temperature,
        [property: JsonPropertyName("repeat_penalty")] double RepeatPenalty,
        [property: JsonPropertyName("repeat_last_n")] int RepeatLastN);
}
