using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
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
            foreach (var blob in manifest.AllBlobs) await FetchAsync(name, insecure, blob, progress, pending, ct);
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

    /// <summary>
    /// Makes sure the blob is in the store: present already, fetched now, or fetched by another pull
    /// running at the same time (this one then waits for it and reports its progress; if that pull's
    /// client leaves, this one takes over and resumes where it stopped).
    /// </summary>
    private async Task FetchAsync(ModelName name, bool insecure, ManifestLayer blob, Action<PullProgress> progress, PendingBlobs pending, CancellationToken ct)
    {
        var status = "pulling " + Digests.GetHex(blob.Digest)[..12];
        while (true)
        {
            if (store.BlobExists(blob.Digest))
            {
                Check(store.BlobPath(blob.Digest), blob);
                progress(new PullProgress(status, blob.Digest, blob.Size, blob.Size));
                return;
            }
            var (download, started) = store.JoinOrStartDownload(blob.Digest,
                shared => DownloadAsync(name, insecure, blob, status, progress, pending, shared, ct));
            if (started)
            {
                await download.Completion;
                return;
            }
            try
            {
                await FollowAsync(download, blob, status, progress, ct);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The pull that fetched it was cancelled, not this one: fetch it here.
            }
        }
    }

    /// <summary>Reports another pull's progress on a blob until its download ends; throws what ended it.</summary>
    private static async Task FollowAsync(BlobDownload download, ManifestLayer blob, string status, Action<PullProgress> progress, CancellationToken ct)
    {
        progress(new PullProgress(status, blob.Digest, blob.Size, download.Completed));
        while (!download.Completion.IsCompleted)
        {
            await Task.WhenAny(download.Completion, Task.Delay(100, ct));
            ct.ThrowIfCancellationRequested();
            progress(new PullProgress(status, blob.Digest, blob.Size, download.Completed));
        }
        await download.Completion;
    }

    /// <summary>
    /// Downloads a blob into its partial file, hashing every byte as it is written (after re-reading
    /// the prefix an earlier, interrupted pull left), checks the digest and the layer's content, and
    /// renames the file into place: the blob is written once and never copied.
    /// </summary>
    private async Task DownloadAsync(ModelName name, bool insecure, ManifestLayer blob, string status, Action<PullProgress> progress,
        PendingBlobs pending, BlobDownload shared, CancellationToken ct)
    {
        Directory.CreateDirectory(store.BlobsDirectory);
        var partial = store.PartialDownloadPath(blob.Digest);
        long offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (offset > blob.Size)
        {
            File.Delete(partial); // longer than the blob can be: not a prefix of it
            offset = 0;
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
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
                if (offset > 0) await HashPrefixAsync(partial, offset, hash, ct);
                await using var file = store.OpenForWriting(partial, resumed ? FileMode.Append : FileMode.Create);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                var buffer = new byte[1 << 16];
                long done = offset, reported = offset;
                shared.Completed = done;
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
                    hash.AppendData(buffer, 0, read);
                    done += read;
                    shared.Completed = done;
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
            var actual = Digests.FromHex(Convert.ToHexStringLower(hash.GetHashAndReset()));
            // A mismatch may come from the registry or from a prefix an earlier pull left damaged: either way
            // the file is dropped, so the next pull starts from nothing.
            if (actual != Digests.FromHex(Digests.GetHex(blob.Digest)))
                throw new RegistryException($"digest mismatch for {blob.Digest}: the downloaded content hashes to {actual}", HttpStatusCode.BadGateway);
            Check(partial, blob);
            store.AdoptHashedDownload(partial, blob.MediaType, blob.Digest, pending);
        }
        finally
        {
            File.Delete(partial); // no-op once adopted; a download that failed its checks is never resumed
        }
    }

    /// <summary>Feeds the first <paramref name="length"/> bytes already in the partial file to the hash.</summary>
    private static async Task HashPrefixAsync(string partial, long length, IncrementalHash hash, CancellationToken ct)
    {
        await using var file = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var buffer = new byte[1 << 16];
        for (long left = length; left > 0;)
        {
            int read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct);
            if (read == 0) throw new IOException($"the partial download {partial} shrank while it was read");
            hash.AppendData(buffer, 0, read);
            left -= read;
        }
    }

    private static RegistryException Interrupted(ManifestLayer blob, long done) =>
        new($"download of {blob.Digest} was interrupted after {done} of {blob.Size} bytes; pull again to resume", HttpStatusCode.BadGateway) { Resumable = true };

    private static RegistryException Oversized(ManifestLayer blob) =>
        new($"the registry sent more than the {blob.Size} bytes its manifest declares for {blob.Digest}; the download was discarded", HttpStatusCode.BadGateway);
}
