namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    /// <summary>
    /// The existing manifest file for <paramref name="name"/>, matching each directory level
    /// case-insensitively (names are equal regardless of case, file systems may not be); null if none.
    /// </summary>
    private string? FindManifestFile(ModelName name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string dir = ManifestsDirectory;
        var parts = name.Parts;
        for (int i = 0; i < parts.Count; i++)
        {
            bool last = i == parts.Count - 1;
            string exact = Path.Combine(dir, parts[i]);
            if (last ? File.Exists(exact) : Directory.Exists(exact))
            {
                dir = exact;
                continue;
            }
            string? match = FindIgnoringCase(dir, parts[i], last);
            if (match is null)
            {
                return null;
            }
            dir = match;
        }
        return dir;
    }

    private static string? FindIgnoringCase(string dir, string part, bool file)
    {
        if (!Directory.Exists(dir))
        {
            return null;
        }
        var entries = file ? Directory.EnumerateFiles(dir) : Directory.EnumerateDirectories(dir);
        return entries.FirstOrDefault(e => string.Equals(Path.GetFileName(e), part, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Writes manifest bytes for <paramref name="name"/> via a temp file and rename. Call inside the
    /// gate. On a full disk the temp file and the directories this call created are removed and
    /// <see cref="InsufficientStorageException"/> is thrown.
    /// </summary>
    private void WriteManifestFile(ModelName name, byte[] bytes)
    {
        // Overwrite an existing spelling of the same name rather than creating a case-variant twin.
        string path = FindManifestFile(name) ?? Path.Combine([ManifestsDirectory, .. name.Parts]);
        string dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        // Starts with '.', which no valid tag can, so List() never mistakes it for a manifest;
        // start-up pruning removes one left by a crash.
        string temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}{TemporaryManifestSuffix}");
        try
        {
            using (var file = OpenForWriting(temp, FileMode.CreateNew))
            {
                file.Write(bytes);
                file.Flush();
            }
            File.Move(temp, path, overwrite: true);
            ManifestsChanged();
        }
        catch (Exception e)
        {
            File.Delete(temp);
            PruneEmptyDirectories(dir); // the ones this call created for a new name
            if (DiskFull(e, $"the manifest of {name.DisplayShortest()}") is { } full) throw full;
            throw;
        }
    }

    /// <summary>Suffix of the store's temporary manifest files (see <see cref="WriteManifestFile"/>).</summary>
    private const string TemporaryManifestSuffix = ".tmp";

    /// <summary>Name of the manifest at an absolute <paramref name="path"/> under <see cref="ManifestsDirectory"/>, as spelled on disk.</summary>
    private ModelName? NameOf(string path) =>
        ModelName.TryFromManifestPath(Path.GetRelativePath(ManifestsDirectory, path), out var name) ? name : null;

    /// <summary>Every <c>host/namespace/model/tag</c> file under <c>manifests/</c> whose path is a valid name.</summary>
    private IEnumerable<(ModelName Name, string Path)> EnumerateManifestFiles()
    {
        if (!Directory.Exists(ManifestsDirectory))
        {
            yield break;
        }
        var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3, IgnoreInaccessible = true };
        foreach (var file in Directory.EnumerateFiles(ManifestsDirectory, "*", options))
        {
            if (NameOf(file) is { } name)
            {
                yield return (name, file);
            }
        }
    }

    /// <summary>Removes <paramref name="dir"/> and its parents while empty, stopping at <see cref="ManifestsDirectory"/>.</summary>
    private void PruneEmptyDirectories(string dir)
    {
        string stop = Path.TrimEndingDirectorySeparator(ManifestsDirectory);
        while (dir.Length > stop.Length && dir.StartsWith(stop, StringComparison.Ordinal) && !Directory.EnumerateFileSystemEntries(dir).Any())
        {
            Directory.Delete(dir);
            dir = Path.GetDirectoryName(dir)!;
        }
    }
}
