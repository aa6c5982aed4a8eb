namespace Inference.Tests.Support;

/// <summary>Locates the real GGUF test models: $INFERENCE_TEST_MODELS, else &lt;repo root&gt;/../shared/models.</summary>
public static class TestModels
{
    public static string Directory { get; } = Resolve();

    public static string Stories260K => Path.Combine(Directory, "stories260K.gguf");

    public static string TinyRandomLlama2 => Path.Combine(Directory, "llama-2-tiny-random.gguf");

    private static string Resolve()
    {
        var fromEnv = Environment.GetEnvironmentVariable("INFERENCE_TEST_MODELS");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }
        return Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "models"));
    }

    /// <summary>The first directory above the test binaries that holds Inference.sln.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Inference.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Inference.sln not found above {AppContext.BaseDirectory}");
    }
}
