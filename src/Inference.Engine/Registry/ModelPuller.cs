using System.Diagnostics;
using System.Net;
using Inference.Engine.Store;

namespace Inference.Engine.Registry;

/// <summary>One progress report of a pull, in Ollama's terms.</summary>
public sealed record PullProgress(string Status, string? Digest = null, long? Total = null, long? Completed = null);

/// <summary>
/// Pulls a model into the store: a bounded, checked manifest, then every blob not already present,
/// resuming partial downloads, reading no more than each layer declares, verifying each SHA-256 and
/// each layer's content (<see cref="LayerCheck"/>), and writing the manifest last, so a failed,
/// cancelled or corrupt pull leaves no visible model.
/// </summary>
/// <remarks>
/// What a failed pull leaves: after an interrupted transfer or a cancel, the partial download and
/// the blobs already verified stay, so the next pull resumes (start-up pruning removes them if
/// none comes). After anything else (a full disk, a registry that sends more than it declared,
/// a digest or content that does not match) the offending partial file and every blob this pull
/// added are removed again.
/// </remarks>
public sealed class ModelPuller(ModelStore store, RegistryClient registry)
{
    private const long ProgressEveryBytes = 256 * 1024;

    public async Task PullAsync(ModelName name, bool insecure, Action<PullProgress> progress, CancellationToken ct)
    {
        progress(new PullProgress("pulling manifest"));
        var manifest = await registry.GetManifestAsync(name, insecure, ct);
        using var pending = store.BeginPending();
        try
        {
            foreach (var blob in manifest.AllBlobs) pending.Hold(blob.Digest);
            EnsureSpace(manifest);
            foreach (var blob in manifest.AllBlobs)
            {
                var status = "pulling " + Digests.GetHex(blob.Digest)[..12];
                if (store.BlobExists(blob.Digest))
                {
                    Check(store.BlobPath(blob.Digest), blob);
                    progress(new PullProgress(status, blob.Digest, blob.Size, blob.Size));
                    continue;
                }
                await DownloadAsync(name, insecure, blob, status, progress, pending, ct);
            }
            progress(new PullProgress("verifying sha256 digest"));
            progress(new PullProgress("writing manifest"));
            await store.WriteManifestAsync(name, manifest, ct);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException || ex is RegistryException { Resumable: true }))
        {
            pending.Discard();
            throw;
        }
        progress(new PullProgress("success"));
    }

    /// <summary>Refuses up front (507) a pull whose missing blobs cannot fit on the disk by their declared sizes.</summary>
    private void EnsureSpace(ModelManifest manifest)
    {
        long needed = 0;
        foreach (var blob in manifest.AllBlobs.DistinctBy(b => b.Digest))
        {
            if (store.BlobExists(blob.Digest)) continue;
            var partial = new FileInfo(store.PartialDownloadPath(blob.Digest));
            needed += blob.Size - (partial.Exists && partial.Length <= blob.Size ? partial.Length : 0);
        }
        store.EnsureSpaceFor(needed, "the model's blobs");
    }

    private static void Check(string path, ManifestLayer blob)
    {
        if (LayerCheck.Problem(path, blob) is { } problem)
            throw new RegistryException(problem, HttpStatusCode.BadGateway);
    }

    private async Task DownloadAsync(ModelName name, bool insecure, ManifestLayer blob, string status, Action<PullProgress> progress,
        PendingBlobs pending, CancellationToken ct)
    {
        Directory.CreateDirectory(store.BlobsDirectory);
        var partial = store.PartialDownloadPath(blob.Digest);
        long offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (offset > blob.Size)
        {
            File.Delete(partial); // longer than the blob can be: not a prefix of it
            offset = 0;
        }
        var (response, resumed) = await registry.OpenBlobAsync(name, insecure, blob.Digest, offset, ct);
        using (response)
        {
            if (!resumed) offset = 0; // the registry sent the whole blob: start over
            if (response.Content.Headers.ContentLength is { } announced && announced > blob.Size - offset)
            {
                File.Delete(partial);
                throw Oversized(blob);
            }
            try
            {
                await using var file = store.OpenForWriting(partial, resumed ? FileMode.Append : FileMode.Create);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                var buffer = new byte[1 << 16];
                long done = offset, reported = offset;
                var clock = Stopwatch.StartNew();
                progress(new PullProgress(status, blob.Digest, blob.Size, done));
                while (true)
                {
                    // Never ask for more than one byte past the declared size: that byte is enough to know the registry lied.
                    int want = (int)Math.Min(buffer.Length, blob.Size + 1 - done);
                    int read;
                    try
                    {
                        read = await body.ReadAsync(buffer.AsMemory(0, want), ct);
                    }
                    catch (Exception ex) when (ex is IOException or HttpRequestException)
                    {
                        throw Interrupted(blob, done);
                    }
                    if (read == 0) break;
                    if (done + read > blob.Size) throw Oversized(blob);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                    done += read;
                    if (done - reported >= ProgressEveryBytes || clock.ElapsedMilliseconds >= 100)
                    {
                        progress(new PullProgress(status, blob.Digest, blob.Size, done));
                        reported = done;
                        clock.Restart();
                    }
                }
                await file.FlushAsync(ct);
                if (done != blob.Size) throw Interrupted(blob, done);
                progress(new PullProgress(status, blob.Digest, blob.Size, done));
            }
            catch (IOException ex) when (InsufficientStorageException.IsDiskFull(ex))
            {
                File.Delete(partial);
                throw new InsufficientStorageException($"not enough disk space in the models directory to download {blob.Digest}", ex);
            }
            catch (RegistryException ex) when (!ex.Resumable)
            {
                File.Delete(partial);
                throw;
            }
        }

        try
        {
            Check(partial, blob);
            await store.AdoptFileAsync(partial, blob.MediaType, blob.Digest, pending, ct);
        }
        catch (BlobDigestMismatchException ex)
        {
            throw new RegistryException($"digest mismatch for {blob.Digest}: the registry sent {ex.Actual}", HttpStatusCode.BadGateway);
        }
        finally
        {
            File.Delete(partial); // no-op once adopted; a download that failed its checks is never resumed
        }
    }

    private static RegistryException Interrupted(ManifestLayer blob, long done) =>
        new($"download of {blob.Digest} was interrupted after {done} of {blob.Size} bytes; pull again to resume", HttpStatusCode.BadGateway) { Resumable = true };

    private static RegistryException Oversized(ManifestLayer blob) =>
        new($"the registry sent more than the {blob.Size} bytes its manifest declares for {blob.Digest}; the download was discarded", HttpStatusCode.BadGateway);
}
