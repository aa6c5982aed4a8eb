using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    private const int CopyBufferSize = 1 << 20;

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
    /// <see cref="BlobDigestMismatchException"/> is thrown.
    /// </summary>
    public async Task<ManifestLayer> ImportBlobAsync(Stream content, string mediaType, string? expectedDigest, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        string? expectedHex = expectedDigest is null ? null : Digests.GetHex(expectedDigest);

        Directory.CreateDirectory(BlobsDirectory);
        // A name that can never parse as a digest, so a leftover from a crash is never mistaken for a blob.
        string temp = Path.Combine(BlobsDirectory, $"sha256-partial-{Guid.NewGuid():N}");
        try
        {
            long size = 0;
            string hex;
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                var buffer = new byte[CopyBufferSize];
                int read;
                while ((read = await content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                    size += read;
                }
                await file.FlushAsync(ct).ConfigureAwait(false);
                hex = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (expectedHex is not null && expectedHex != hex)
            {
                throw new BlobDigestMismatchException(Digests.FromHex(expectedHex), Digests.FromHex(hex));
            }

            string target = BlobPath(Digests.FromHex(hex));
            if (!File.Exists(target))
            {
                try
                {
                    File.Move(temp, target, overwrite: false);
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

    /// <summary>Imports the file at <paramref name="path"/> as a blob.</summary>
    public async Task<ManifestLayer> ImportFileAsync(string path, string mediaType, CancellationToken ct)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await ImportBlobAsync(stream, mediaType, null, ct).ConfigureAwait(false);
    }

    /// <summary>Stores <paramref name="text"/> as a UTF-8 (no BOM) blob, e.g. a template, system prompt or license.</summary>
    public Task<ManifestLayer> WriteTextBlobAsync(string text, string mediaType, CancellationToken ct) =>
        WriteBytesBlobAsync(new UTF8Encoding(false).GetBytes(text), mediaType, ct);

    /// <summary>Stores <paramref name="value"/> as a JSON blob (pass a source-generated type info, e.g. from <see cref="StoreJsonContext"/>).</summary>
    public Task<ManifestLayer> WriteJsonBlobAsync<T>(T value, JsonTypeInfo<T> typeInfo, string mediaType, CancellationToken ct) =>
        WriteBytesBlobAsync(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), mediaType, ct);

    /// <summary>Stores a config blob; the returned layer is the manifest's <c>config</c>.</summary>
    public Task<ManifestLayer> WriteConfigAsync(ModelConfig config, CancellationToken ct) =>
        WriteJsonBlobAsync(config, StoreJsonContext.Ollama.ModelConfig, MediaTypes.Config, ct);

    /// <summary>Stores a params layer: a JSON object of default options.</summary>
    public Task<ManifestLayer> WriteParamsAsync(Dictionary<string, JsonElement> parameters, CancellationToken ct) =>
        WriteJsonBlobAsync(parameters, StoreJsonContext.Ollama.DictionaryStringJsonElement, MediaTypes.Params, ct);

    private async Task<ManifestLayer> WriteBytesBlobAsync(byte[] bytes, string mediaType, CancellationToken ct)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return await ImportBlobAsync(ms, mediaType, null, ct).ConfigureAwait(false);
    }
}
