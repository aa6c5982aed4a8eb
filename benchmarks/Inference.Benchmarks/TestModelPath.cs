namespace Inference.Benchmarks;

/// <summary>The shared test models, located like the tests do (INFERENCE_TEST_MODELS or ../shared/models).</summary>
internal static class TestModelPath
{
    public static string Stories260K => Path.Combine(Directory(), "stories260K.gguf");
    public static string TinyRandomLlama2 => Path.Combine(Directory(), "llama-2-tiny-random.gguf");

    private static string Directory()
    {
        if (Environment.GetEnvironmentVariable("INFERENCE_TEST_MODELS") is { Length: > 0 } dir) return dir;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Inference.sln"))) return Path.Combine(d.FullName, "..", "shared", "models");
        throw new InvalidOperationException("set INFERENCE_TEST_MODELS");
    }
}
