using System.Diagnostics;

namespace Inference.LoadTool;

/// <summary>
/// Sends a request, and sends it once more when the first try failed before any response arrived (HttpRequestException
/// from SendAsync: the connection was refused or closed under it). llama-server's HTTP library closes pooled keep-alive
/// connections on its own schedule, and a POST that races that close fails without .NET retrying it; one such failure
/// stopped a whole side-by-side run. The clock restarts with the second try, so a re-sent request is timed like any
/// other; a second failure is reported with its inner exception.
/// </summary>
public static class ResendOnClosedConnection
{
    public static async Task<(HttpResponseMessage Response, long Start, bool Resent)> SendAsync(
        HttpClient http, Func<HttpRequestMessage> request, HttpCompletionOption completion, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return (await http.SendAsync(request(), completion, ct), start, false);
        }
        catch (HttpRequestException) when (!ct.IsCancellationRequested)
        {
        }
        start = Stopwatch.GetTimestamp();
        try
        {
            return (await http.SendAsync(request(), completion, ct), start, true);
        }
        catch (HttpRequestException e) when (e.InnerException is { } inner)
        {
            throw new HttpRequestException($"{e.Message} ({inner.GetType().Name}: {inner.Message}), also when re-sent", inner);
        }
    }
}
