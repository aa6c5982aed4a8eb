using System.Diagnostics;
using Inference.Engine.Store;

namespace Inference.Engine.Registry;

/// <summary>One progress report of a pull, in Ollama's terms.</summary>
public sealed record PullProgress(string Status, string? Digest = null, long? Total = null, long? Completed = null);

/// <summary>
/// Pulls a model into the store: manifest, then every blob not already present, resuming partial
/// downloads, verifying each SHA-256, and writing the manifest last, so a failed, cancelled or
/// corrupt pull leaves no visible model (partial downloads stay for the next attempt to resume).
/// </summary>
public sealed class ModelPuller(ModelStore store, RegistryClient registry)
{
    private const long ProgressEveryBytes = 256 * 1024;

    public async Task PullAsync(ModelName name, bool insecure, Action<PullProgress> progress, CancellationToken ct)
    {
        progress(new PullProgress("pulling manifest"));
        var manifest = await registry.GetManifestAsync(name, insecure, ct);
        foreach (var blob in manifest.AllBlobs)
        {
            var status = "pulling " + Digests.GetHex(blob.Digest)[..12];
            if (store.BlobExists(blob.Digest))
            {
                progress(new PullProgress(status, blob.Digest, blob.Size, blob.Size));
                continue;
            }
            await DownloadAsync(name, insecure, blob, status, progress, ct);
        }
        progress(new PullProgress("verifying sha256 digest"));
        progress(new PullProgress("writing manifest"));
        await store.WriteManifestAsync(name, manifest, ct);
        progress(new PullProgress("success"));
    }

    private async Task DownloadAsync(ModelName name, bool insecure, ManifestLayer blob, string status, Action<PullProgress> progress, CancellationToken ct)
    {
        Directory.CreateDirectory(store.BlobsDirectory);
        var partial = store.BlobPath(blob.Digest) + "-partial";
        long offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        var (response, resumed) = await registry.OpenBlobAsync(name, insecure, blob.Digest, offset, ct);
        using (response)
        {
            if (!resumed) offset = 0; // the registry sent the whole blob: start over
            await using (var file = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            await using (var body = await response.Content.ReadAsStreamAsync(ct))
            {
                var buffer = new byte[1 << 16];
                long done = offset, reported = offset;
                var clock = Stopwatch.StartNew();
                progress(new PullProgress(status, blob.Digest, blob.Size, done));
                int read;
                try
                {
                    while ((read = await body.ReadAsync(buffer, ct)) > 0)
                    {
                        await file.WriteAsync(buffer.AsMemory(0, read), ct);
                        done += read;
                        if (done - reported >= ProgressEveryBytes || clock.ElapsedMilliseconds >= 100)
                        {
                            progress(new PullProgress(status, blob.Digest, blob.Size, done));
                            reported = done;
                            clock.Restart();
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    throw new RegistryException($"download of {blob.Digest} was interrupted after {done} bytes; pull again to resume", System.Net.HttpStatusCode.BadGateway);
                }
                if (done != blob.Size)
                    throw new RegistryException($"download of {blob.Digest} was interrupted after {done} of {blob.Size} bytes; pull again to resume", System.Net.HttpStatusCode.BadGateway);
                progress(new PullProgress(status, blob.Digest, blob.Size, done));
            }
        }

        // The store hashes while it copies and refuses a digest mismatch; a corrupt download is discarded.
        try
        {
            await using var verified = File.OpenRead(partial);
            await store.ImportBlobAsync(verified, blob.MediaType, blob.Digest, ct);
        }
        catch (BlobDigestMismatchException ex)
        {
            File.Delete(partial);
            throw new RegistryException($"digest mismatch for {blob.Digest}: the registry sent {ex.Actual}", System.Net.HttpStatusCode.BadGateway);
        }
        File.Delete(partial);
    }
}
