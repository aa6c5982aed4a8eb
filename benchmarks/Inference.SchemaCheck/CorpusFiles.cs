namespace Inference.SchemaCheck;

/// <summary>One corpus schema: "source/name" (its path under tests/schemas, without .json) and its text.</summary>
public sealed record CorpusSchema(string Name, string Text);

/// <summary>The real-world schema corpus under tests/schemas (see the generators there), in a stable order.</summary>
public static class CorpusFiles
{
    public static string DefaultDirectory(string repoRoot) => Path.Combine(repoRoot, "tests", "schemas");

    public static IReadOnlyList<CorpusSchema> Load(string directory) =>
        Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories)
            .Select(path => new CorpusSchema(Path.GetRelativePath(directory, path)[..^".json".Length].Replace('\\', '/'), File.ReadAllText(path)))
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>The repository root: the nearest folder above <paramref name="from"/> that holds Inference.sln.</summary>
    public static string FindRepoRoot(string from)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Inference.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Inference.sln above {from}");
    }
}
