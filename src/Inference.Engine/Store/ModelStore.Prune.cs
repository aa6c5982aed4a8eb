using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Inference.Engine.Store;

/// <summary>What <see cref="ModelStore.Prune"/> removed.</summary>
/// <param name="TemporaryFiles">Partial downloads, temporary blobs and temporary manifests left by an interrupted operation.</param>
/// <param name="UnreferencedBlobs">Blobs no manifest references.</param>
/// <param name="BytesFreed">Their total size.</param>
/// <param name="BlobsKept">True when some manifest could not be read, so no blob was removed (its references are unknown).</param>
public sealed record PruneResult(int TemporaryFiles, int UnreferencedBlobs, long BytesFreed, bool BlobsKept);

public sealed partial class ModelStore
{
    /// <summary>
    /// Removes what interrupted operations leave behind, as Ollama does when it starts: temporary
    /// and partial files in <c>blobs/</c>, temporary manifests, blobs that no manifest references,
    /// and empty directories under <c>manifests/</c>. Call at start-up, before any create, pull or
    /// upload can run: a blob being written is not referenced yet.
    /// </summary>
    /// <remarks>
    /// Every file under <c>manifests/</c> counts, whatever its name or host (other registries,
    /// namespaces, names this server would not accept), and one that does not parse still keeps
    /// every digest its text mentions. When a manifest cannot be read at all (I/O error, larger than
    /// <see cref="LayerRules.MaxManifestBytes"/>), no blob is removed. Files in <c>blobs/</c> whose
    /// names are neither digests nor temporaries are left alone.
    /// </remarks>
    public PruneResult Prune()
    {
        _gate.Wait();
        try
        {
            int temporaries = 0, unreferenced = 0;
            long freed = 0;
            void Remove(FileInfo file, ref int count)
            {
                long length = file.Length;
                file.Delete();
                count++;
                freed += length;
            }

            if (Directory.Exists(ManifestsDirectory))
            {
                foreach (var file in new DirectoryInfo(ManifestsDirectory).EnumerateFiles("*", AllLevels))
                {
                    if (file.Name.StartsWith('.') && file.Name.EndsWith(TemporaryManifestSuffix, StringComparison.Ordinal))
                        Remove(file, ref temporaries);
                }
            }

            bool kept = false;
            if (Directory.Exists(BlobsDirectory))
            {
                var blobs = new DirectoryInfo(BlobsDirectory).EnumerateFiles().ToList();
                foreach (var file in blobs.Where(f => IsTemporaryBlobName(f.Name)))
                    Remove(file, ref temporaries);

                var referenced = ReferencedDigests(out bool complete);
                kept = !complete;
                if (complete)
                {
                    foreach (var file in blobs)
                    {
                        if (file.Exists && Digests.TryGetHex(file.Name, out var hex) && file.Name[6] == '-'
                            && !referenced.Contains(hex) && PinCount(hex) == 0)
                            Remove(file, ref unreferenced);
                    }
                }
            }

            RemoveEmptyManifestDirectories();
            return new PruneResult(temporaries, unreferenced, freed, kept);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static readonly EnumerationOptions AllLevels = new() { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };

    /// <summary>The store's own temporaries (<c>sha256-partial-*</c>) and partial downloads (<c>sha256-&lt;hex&gt;-partial*</c>, as Ollama names them too).</summary>
    private static bool IsTemporaryBlobName(string name) =>
        name.StartsWith(TemporaryBlobPrefix, StringComparison.Ordinal) || PartialDownloadName().IsMatch(name);

    [GeneratedRegex("^sha256-[0-9a-f]{64}-partial")]
    private static partial Regex PartialDownloadName();

    [GeneratedRegex("sha256[:-]([0-9a-f]{64})")]
    private static partial Regex DigestInText();

    /// <summary>
    /// Hex digests of every blob any file under <c>manifests/</c> refers to. A file that does not
    /// parse as a manifest still refers to every digest in its text. <paramref name="complete"/> is
    /// false when some file could not be read, so the set may miss references. Call inside the gate.
    /// </summary>
    private HashSet<string> ReferencedDigests(out bool complete)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        complete = true;
        if (!Directory.Exists(ManifestsDirectory))
        {
            return referenced;
        }
        try
        {
            foreach (var file in new DirectoryInfo(ManifestsDirectory).EnumerateFiles("*", AllLevels))
            {
                if (file.Length > LayerRules.MaxManifestBytes)
                {
                    complete = false;
                    continue;
                }
                byte[] bytes;
                try
                {
                    bytes = File.ReadAllBytes(file.FullName);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    complete = false;
                    continue;
                }
                AddReferences(bytes, referenced);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            complete = false; // a directory that cannot be listed
        }
        return referenced;
    }

    private static void AddReferences(byte[] bytes, HashSet<string> referenced)
    {
        try
        {
            if (JsonSerializer.Deserialize(bytes, StoreJsonContext.Ollama.ModelManifest) is { } manifest)
            {
                foreach (var layer in (manifest.Layers ?? []).Prepend(manifest.Config))
                {
                    if (Digests.TryGetHex(layer?.Digest, out var hex)) referenced.Add(hex);
                }
            }
        }
        catch (JsonException)
        {
        }
        // Also every digest the text mentions: a manifest that is broken or of a shape this server
        // does not know still keeps its blobs.
        foreach (Match m in DigestInText().Matches(Encoding.UTF8.GetString(bytes)))
        {
            referenced.Add(m.Groups[1].Value);
        }
    }

    /// <summary>Removes empty directories under <c>manifests/</c>, deepest first (Ollama's PruneDirectory).</summary>
    private void RemoveEmptyManifestDirectories()
    {
        if (!Directory.Exists(ManifestsDirectory)) return;
        var dirs = Directory.EnumerateDirectories(ManifestsDirectory, "*", AllLevels).OrderByDescending(d => d.Length).ToList();
        foreach (var dir in dirs)
        {
            if (!Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
        }
    }
}
