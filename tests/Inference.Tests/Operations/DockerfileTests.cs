using System.Text.RegularExpressions;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>No Docker engine runs here, so the Dockerfiles are checked by reading them.</summary>
public sealed partial class DockerfileTests
{
    [Theory]
    [InlineData("Dockerfile.cpu", "Cpu")]
    [InlineData("Dockerfile.cuda", "Cuda12")]
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
        Assert.Equal(2, Regex.Matches(text, $@"(?m)^RUN .*-p:InferenceBackend={backend}\b").Count);
        var engine = File.ReadAllText(Path.Combine(root, "src/Inference.Engine/Inference.Engine.csproj"));
        Assert.Contains($"'$(InferenceBackend)' == '{backend}'", engine);

        Assert.Matches(@"(?m)^FROM .+ AS build$", text);
        Assert.Matches(@"(?m)^USER app$", text);
        Assert.Matches(@"(?m)^EXPOSE 11434$", text);
        Assert.Matches(@"(?m)^VOLUME \[""/models""\]$", text);
        Assert.Matches(@"(?m)^HEALTHCHECK .*Inference\.Server\.dll"", ""healthcheck""\]$", text);
        Assert.Contains("OLLAMA_HOST=0.0.0.0:11434", text);
    }

    [GeneratedRegex(@"(?m)^COPY (?!--from)(?<args>.+)$")]
    private static partial Regex CopyFromContext();
}
