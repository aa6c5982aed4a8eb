namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    // Downloads in progress in this process, by hex digest; guarded by locking the dictionary.
    private readonly Dictionary<string, BlobDownload> _downloads = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts <paramref name="download"/> for a blob unless one runs already in this process; either way
    /// returns the download in flight and whether this caller started it. Concurrent pulls of models that
    /// share a blob thus fetch it once: the others wait for it and report its progress (one writer per
    /// <see cref="PartialDownloadPath"/>, which is opened without sharing).
    /// </summary>
    public (BlobDownload Download, bool Started) JoinOrStartDownload(string digest, Func<BlobDownload, Task> download)
    {
        string hex = Digests.GetHex(digest);
        BlobDownload entry;
        lock (_downloads)
        {
            if (_downloads.TryGetValue(hex, out var running)) return (running, false);
            entry = new BlobDownload();
            _downloads[hex] = entry;
        }
        _ = RunAsync(hex, entry, download);
        return (entry, true);
    }

    private async Task RunAsync(string hex, BlobDownload entry, Func<BlobDownload, Task> download)
    {
        Exception? error = null;
        try
        {
            await download(entry).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        // Removed before anyone hears of the end, so a pull that retries after a cancelled download starts a new one.
        lock (_downloads) _downloads.Remove(hex);
        if (error is null) entry.Done.TrySetResult();
        else entry.Done.TrySetException(error);
    }
}

/// <summary>One blob download in flight (see <see cref="ModelStore.JoinOrStartDownload"/>).</summary>
public sealed class BlobDownload
{
    private long _completed;
    internal readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Ends when the blob is stored, or with the error that stopped the download.</summary>
    public Task Completion => Done.Task;

    /// <summary>Bytes received so far (including a resumed prefix), for the progress of pulls that wait on it.</summary>
    public long Completed
    {
        get => Interlocked.Read(ref _completed);
        set => Interlocked.Exchange(ref _completed, value);
    }
}
