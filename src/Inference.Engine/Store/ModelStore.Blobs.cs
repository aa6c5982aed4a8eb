using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    private const int CopyBufferSize = 1 << 20;

    /// <summary>Prefix of the store's temporary blob files; never a valid digest, so never mistaken for a blob.</summary>
    private const string TemporaryBlobPrefix = "sha256-partial-";

    /// <summary>
    /// Path of the blob with <paramref name="digest"/> (<c>sha256:&lt;hex&gt;</c> or <c>sha256-&lt;hex&gt;</c>).
    /// Throws <see cref="ArgumentException"/> unless the digest is 64 lowercase hex digits, so no
    /// digest can name a file outside <see cref="BlobsDirectory"/>.
    /// </summary>
    public string BlobPath(string digest) => Path.Combine(BlobsDirectory, "sha256-" + Digests.GetHex(digest));

    public bool BlobExists(string digest) => File.Exists(BlobPath(digest));

    /// <summary>
    /// Stores <paramref name="content"/> as a blob: streams it into a temporary file in
    /// <c>blobs/</c> while hashing, checks <paramref name="expectedDigest"/> when given, then renames
    /// the file into place. On a mismatch nothing is left behind and
    /// <see cref="BlobDigestMismatchException"/> is thrown; on a full disk the temporary file is
    /// removed and <see cref="InsufficientStorageException"/> is thrown. With <paramref name="pending"/>,
    /// the blob is held for that operation (and recorded as added when this call created it).
    /// </summary>
    public async Task<ManifestLayer> ImportBlobAsync(Stream content, string mediaType, string? expectedDigest, CancellationToken ct,
        PendingBlobs? pending = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        string? expectedHex = expectedDigest is null ? null : Digests.GetHex(expectedDigest);

        Directory.CreateDirectory(BlobsDirectory);
        // A name that can never parse as a digest, so a leftover from a crash is never mistaken for
        // a blob; start-up pruning removes such leftovers.
        string temp = TemporaryBlobPath();
        try
        {
            long size = 0;
            string hex;
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[CopyBufferSize];
                try
                {
                    await using var file = OpenForWriting(temp, FileMode.CreateNew);
                    int read;
                    while ((read = await content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                        await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                        size += read;
                    }
                    await file.FlushAsync(ct).ConfigureAwait(false);
                }
                catch (IOException e) when (DiskFull(e, "a blob") is { } full)
                {
                    throw full;
                }
                hex = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (expectedHex is not null && expectedHex != hex)
            {
                throw new BlobDigestMismatchException(Digests.FromHex(expectedHex), Digests.FromHex(hex));
            }

            string target = BlobPath(Digests.FromHex(hex));
            // Held before it becomes visible, so no concurrent delete can remove it before the caller's manifest lands.
            pending?.Hold(Digests.FromHex(hex));
            if (!File.Exists(target))
            {
                try
                {
                    File.Move(temp, target, overwrite: false);
                    pending?.Added(hex);
                }
                catch (IOException) when (File.Exists(target))
                {
                    // Another import of the same content won the race; identical bytes, keep theirs.
                }
            }
            return new ManifestLayer(mediaType, Digests.FromHex(hex), size);
        }
        finally
        {
            File.Delete(temp); // No-op after a successful move.
        }
    }

    /// <summary>
    /// Makes a finished file in <c>blobs/</c> (a download at <see cref="PartialDownloadPath"/>, or a
    /// <see cref="TemporaryBlobPath"/>) a blob: hashes it in place and renames it, so a multi-GB
    /// model needs no second copy. When <paramref name="expectedDigest"/> is given and does not
    /// match, the file is deleted and <see cref="BlobDigestMismatchException"/> is thrown.
    /// </summary>
    public async Task<ManifestLayer> AdoptFileAsync(string path, string mediaType, string? expectedDigest, PendingBlobs pending, CancellationToken ct)
    {
        string hex;
        long size;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            size = file.Length;
            hex = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct).ConfigureAwait(false));
        }
        if (expectedDigest is not null && Digests.GetHex(expectedDigest) != hex)
        {
            File.Delete(path);
            throw new BlobDigestMismatchException(Digests.FromHex(Digests.GetHex(expectedDigest)), Digests.FromHex(hex));
        }
        string digest = Digests.FromHex(hex);
        pending.Hold(digest);
        string target = BlobPath(digest);
        try
        {
            if (!File.Exists(target))
            {
                File.Move(path, target, overwrite: false);
                pending.Added(hex);
            }
        }
        catch (IOException) when (File.Exists(target))
        {
            // The same content arrived another way meanwhile.
        }
        File.Delete(path); // no-op after the move
        return new ManifestLayer(mediaType, digest, size);
    }

    /// <summary>
    /// Makes a download a blob without reading it again: the caller hashed every byte while writing
    /// <paramref name="path"/> (a resumed prefix re-read first) and found <paramref name="digest"/>.
    /// Renamed into place, so a multi-GB model is written once and read once.
    /// </summary>
    public ManifestLayer AdoptHashedDownload(string path, string mediaType, string digest, PendingBlobs pending)
    {
        string hex = Digests.GetHex(digest);
        long size = new FileInfo(path).Length;
        pending.Hold(digest);
        string target = BlobPath(digest);
        try
        {
            if (!File.Exists(target))
            {
                File.Move(path, target, overwrite: false);
                pending.Added(hex);
            }
        }
        catch (IOException) when (File.Exists(target))
        {
            // The same content arrived another way meanwhile.
        }
        File.Delete(path); // no-op after the move
        return new ManifestLayer(mediaType, Digests.FromHex(hex), size);
    }

    /// <summary>A new temporary file name in <c>blobs/</c> (<c>sha256-partial-&lt;guid&gt;</c>) that start-up pruning recognizes as a leftover.</summary>
    public string TemporaryBlobPath() => Path.Combine(BlobsDirectory, $"{TemporaryBlobPrefix}{Guid.NewGuid():N}");

    /// <summary>Where a download of <paramref name="digest"/> accumulates before it is verified (Ollama's <c>sha256-&lt;hex&gt;-partial</c>).</summary>
    public string PartialDownloadPath(string digest) => BlobPath(digest) + "-partial";

    /// <summary>Free bytes on the models directory's file system, or null when that cannot be told.</summary>
    public long? AvailableSpace()
    {
        try
        {
            Directory.CreateDirectory(Root);
            return new DriveInfo(Root).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Throws <see cref="InsufficientStorageException"/> when <paramref name="bytes"/> more cannot fit (as far as the file system tells).</summary>
    public void EnsureSpaceFor(long bytes, string writing)
    {
        if (AvailableSpace() is { } free && bytes > free)
        {
            throw new InsufficientStorageException($"not enough disk space in the models directory to write {writing}: {bytes} bytes needed, {free} free");
        }
    }

    /// <summary>Imports the file at <paramref name="path"/> as a blob.</summary>
    public async Task<ManifestLayer> ImportFileAsync(string path, string mediaType, CancellationToken ct, PendingBlobs? pending = null)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await ImportBlobAsync(stream, mediaType, null, ct, pending).ConfigureAwait(false);
    }

    /// <summary>Stores <paramref name="text"/> as a UTF-8 (no BOM) blob, e.g. a template, system prompt or license.</summary>
    public Task<ManifestLayer> WriteTextBlobAsync(string text, string mediaType, CancellationToken ct, PendingBlobs? pending = null) =>
        WriteBytesBlobAsync(new UTF8Encoding(false).GetBytes(text), mediaType, ct, pending);

    /// <summary>Stores <paramref name="value"/> as a JSON blob (pass a source-generated type info, e.g. from <see cref="StoreJsonContext"/>).</summary>
    public Task<ManifestLayer> WriteJsonBlobAsync<T>(T value, JsonTypeInfo<T> typeInfo, string mediaType, CancellationToken ct, PendingBlobs? pending = null) =>
        WriteBytesBlobAsync(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), mediaType, ct, pending);

    /// <summary>Stores a config blob; the returned layer is the manifest's <c>config</c>.</summary>
    public Task<ManifestLayer> WriteConfigAsync(ModelConfig config, CancellationToken ct, PendingBlobs? pending = null) =>
        WriteJsonBlobAsync(config, StoreJsonContext.Ollama.ModelConfig, MediaTypes.Config, ct, pending);

    /// <summary>Stores a params layer: a JSON object of default options.</summary>
    public Task<ManifestLayer> WriteParamsAsync(Dictionary<string, JsonElement> parameters, CancellationToken ct) =>
        WriteJsonBlobAsync(parameters, StoreJsonContext.Ollama.DictionaryStringJsonElement, MediaTypes.Params, ct);

    private async Task<ManifestLayer> WriteBytesBlobAsync(byte[] bytes, string mediaType, CancellationToken ct, PendingBlobs? pending)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return await ImportBlobAsync(ms, mediaType, null, ct, pending).ConfigureAwait(false);
    }
}
