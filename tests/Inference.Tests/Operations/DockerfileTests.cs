using System.Text.RegularExpressions;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>No Docker engine runs here, so the Dockerfiles are checked by reading them.</summary>
public sealed partial class DockerfileTests
{
    [Theory]
    [InlineData("Dockerfile.cpu", "Cpu")]
    [InlineData("Dockerfile.cuda", "${INFERENCE_BACKEND}")]
    public void Dockerfile_names_existing_files_and_its_backend_property(string file, string backend)
    {
        var root = TestModels.RepoRoot();
        var text = File.ReadAllText(Path.Combine(root, file));

        // Every COPY from the build context names something in the repository.
        foreach (Match m in CopyFromContext().Matches(text))
        {
            var sources = m.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1];
            foreach (var source in sources)
                Assert.True(File.Exists(Path.Combine(root, source)) || Directory.Exists(Path.Combine(root, source)), $"{file}: COPY {source} does not exist");
        }

        // The backend switch the engine project understands, for restore and publish alike.
        Assert.Equal(2, Regex.Matches(text, $@"(?m)^RUN .*-p:InferenceBackend={Regex.Escape(backend)}(\s|$)").Count);
        if (!backend.StartsWith('$'))
            Assert.Contains($"'$(InferenceBackend)' == '{backend}'", File.ReadAllText(Path.Combine(root, "src/Inference.Engine/Inference.Engine.csproj")));

        Assert.Matches(@"(?m)^FROM .+ AS build$", text);
        Assert.Matches(@"(?m)^USER app$", text);
        Assert.Matches(@"(?m)^EXPOSE 11434$", text);
        Assert.Matches(@"(?m)^VOLUME \[""/models""\]$", text);
        Assert.Matches(@"(?m)^HEALTHCHECK .*Inference\.Server\.dll"", ""healthcheck""\]$", text);
        Assert.Contains("OLLAMA_HOST=0.0.0.0:11434", text);
    }

    [Fact]
    public void Dockerfile_cuda_builds_the_natives_with_the_script_and_ships_them_by_default()
    {
        var root = TestModels.RepoRoot();
        var text = File.ReadAllText(Path.Combine(root, "Dockerfile.cuda"));

        // A CUDA devel stage builds llama.cpp from the "llama" build context with scripts/build-llama-native.sh,
        // which reads the commit from LlamaCppVersion.cs (copied beside it, at the same relative path).
        Assert.Matches(@"(?m)^FROM nvidia/cuda:\$\{CUDA_VERSION\}-devel-ubuntu22\.04 AS natives$", text);
        Assert.Matches(@"(?m)^COPY scripts/build-llama-native\.sh scripts/$", text);
        Assert.Matches(@"(?m)^COPY src/Inference\.Engine/Backend/LlamaCppVersion\.cs src/Inference\.Engine/Backend/$", text);
        Assert.Matches(@"(?m)^COPY --from=llama \. /llama\.cpp$", text);
        var logical = Regex.Replace(text, @"\\\n\s*", ""); // continuation lines joined, as Docker reads them
        Assert.Matches(@"(?m)^RUN scripts/build-llama-native\.sh --source /llama\.cpp --backend cuda .*--out /opt/llama-native ", logical);

        // The server is published without a llama.cpp of its own unless the nuget target asks for Cuda12.
        Assert.Matches(@"(?m)^ARG INFERENCE_BACKEND=None$", text);
        Assert.Contains("--target nuget --build-arg INFERENCE_BACKEND=Cuda12", text);
        Assert.Contains("'$(InferenceBackend)' == 'Cuda12'", File.ReadAllText(Path.Combine(root, "src/Inference.Engine/Inference.Engine.csproj")));

        // The last stage is the default target: the runtime plus the natives, loaded through the setting.
        var stages = Regex.Matches(text, @"(?m)^FROM (?<image>\S+) AS (?<name>\S+)$").Select(m => (Image: m.Groups["image"].Value, Name: m.Groups["name"].Value)).ToList();
        Assert.Equal([("runtime", "nuget"), ("runtime", "native")], stages[^2..]);
        var native = text[text.LastIndexOf("FROM runtime AS native", StringComparison.Ordinal)..];
        Assert.Matches(@"(?m)^COPY --from=natives /opt/llama-native /opt/llama-native$", native);
        Assert.Matches(@"(?m)^ENV Inference__NativeLibraryPath=/opt/llama-native$", native);
    }

    [GeneratedRegex(@"(?m)^COPY (?!--from)(?<args>.+)$")]
    private static partial Regex CopyFromContext();
}
