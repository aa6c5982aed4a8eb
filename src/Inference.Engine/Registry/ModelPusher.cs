using System.Text.Json;
using Inference.Engine.Store;

namespace Inference.Engine.Registry;

/// <summary>
/// Pushes a stored model to its registry as Ollama does: each layer and then the config blob, skipping those the
/// repository has already (HEAD), uploading the others in chunks of <c>chunkBytes</c>, and the manifest last, so
/// the model is visible in the registry only once every blob it lists is there. Progress uses a pull's shape
/// ("pushing &lt;digest prefix&gt;" with total and completed bytes).
/// </summary>
/// <remarks>
/// A push only reads the store. The blobs it sends are held (<see cref="PendingBlobs"/>) while it runs, so deleting
/// the model meanwhile does not remove them under it; a failed or cancelled push leaves the local model as it was,
/// and tells the registry to drop the upload session it abandoned.
/// </remarks>
public sealed class ModelPusher(ModelStore store, RegistryUploadClient registry, long chunkBytes)
{
    public async Task PushAsync(ModelName name, ModelManifest manifest, bool insecure, Action<PullProgress> progress, CancellationToken ct)
    {
        progress(new PullProgress("retrieving manifest"));
        using var pending = store.BeginPending();
        foreach (var blob in manifest.AllBlobs) pending.Hold(blob.Digest);
        store.CheckComplete(manifest); // after the hold: what it finds cannot disappear during the push

        // Ollama's order: the layers, then the config.
        foreach (var blob in manifest.Layers.Append(manifest.Config).DistinctBy(b => b.Digest))
            await PushBlobAsync(name, insecure, blob, progress, ct);

        progress(new PullProgress("pushing manifest"));
        await registry.PutManifestAsync(name, insecure, JsonSerializer.SerializeToUtf8Bytes(manifest, StoreJsonContext.Ollama.ModelManifest), ct);
        progress(new PullProgress("success"));
    }

    private async Task PushBlobAsync(ModelName name, bool insecure, ManifestLayer blob, Action<PullProgress> progress, CancellationToken ct)
    {
        var status = "pushing " + Digests.GetHex(blob.Digest)[..12];
        if (await registry.HasBlobAsync(name, insecure, blob.Digest, ct))
        {
            progress(new PullProgress(status, blob.Digest, blob.Size, blob.Size));
            return;
        }

        await using var file = store.OpenForReading(store.BlobPath(blob.Digest));
        if (file.Length != blob.Size)
            throw new InvalidManifestException($"blob {blob.Digest} is {file.Length} bytes in the store, but the manifest declares {blob.Size}");
        var upload = await registry.StartUploadAsync(name, insecure, ct);
        try
        {
            progress(new PullProgress(status, blob.Digest, blob.Size, 0));
            for (long offset = 0; offset < blob.Size;)
            {
                long length = Math.Min(chunkBytes, blob.Size - offset);
                upload = await registry.SendChunkAsync(name, upload, file, offset, length,
                    position => progress(new PullProgress(status, blob.Digest, blob.Size, position)), ct);
                offset += length;
                progress(new PullProgress(status, blob.Digest, blob.Size, offset));
            }
            await registry.FinishUploadAsync(name, upload, blob.Digest, ct);
        }
        catch
        {
            await registry.CancelUploadAsync(upload);
            throw;
        }
    }
}
