using System.Threading.Channels;
using Inference.Server.Contracts;

namespace Inference.Server.Http;

/// <summary>
/// Long-running operations with progress (create, pull): the work runs on its own and reports through a
/// channel, and the response commits to a 200 stream only after the first <c>eventsBeforeStream</c> events,
/// so a failure before that (a bad request, a missing manifest) still gets its status code from the route
/// group's error filter. After that, a failure ends the NDJSON stream with Ollama's error object instead of
/// cutting it. Without streaming the events are drained and the answer is one success object.
/// </summary>
public static class ProgressStream
{
    /// <param name="work">The operation; it reports progress through the callback it is given.</param>
    /// <param name="eventsBeforeStream">Events the work must have reported before the stream starts (pull waits for the manifest).</param>
    /// <param name="write">Writes one progress event as an NDJSON line.</param>
    /// <param name="success">The whole answer when the client did not ask for a stream (or the work reported nothing to stream).</param>
    public static async Task<IResult> RunAsync<T>(HttpContext http, bool stream, int eventsBeforeStream,
        Func<Action<T>, CancellationToken, Task> work, Func<T, CancellationToken, Task> write, Func<IResult> success)
    {
        var ct = http.RequestAborted;
        var progress = Channel.CreateUnbounded<T>();
        var running = Task.Run(async () =>
        {
            try
            {
                await work(p => progress.Writer.TryWrite(p), ct);
                progress.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                progress.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);

        var reader = progress.Reader;
        // Reading a channel completed with an error rethrows it: before the stream starts, the group's filter answers it.
        var early = new List<T>();
        for (int seen = 0; seen < eventsBeforeStream; seen++)
        {
            if (!await reader.WaitToReadAsync(ct))
            {
                await running;
                return success();
            }
            // The events before the last one waited for are taken now; the last stays in the channel for the stream.
            if (seen < eventsBeforeStream - 1 && reader.TryRead(out var taken)) early.Add(taken);
        }
        if (!stream)
        {
            await foreach (var _ in reader.ReadAllAsync(ct)) { }
            return success();
        }

        Ndjson.Start(http.Response);
        try
        {
            foreach (var p in early) await write(p, ct);
            await foreach (var p in reader.ReadAllAsync(ct)) await write(p, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The 200 header is out: the stream ends with the error object instead of being cut. The work
            // has already removed what it must not leave behind.
            var message = EngineErrors.Classify(ex)?.Message ?? "internal server error";
            await Ndjson.WriteAsync(http.Response, new ErrorResponse(message), SharedJsonContext.Wire.ErrorResponse, ct);
        }
        return Results.Empty;
    }
}
