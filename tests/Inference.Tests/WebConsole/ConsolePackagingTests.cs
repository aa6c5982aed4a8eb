using Inference.Server.WebConsole;
using Inference.Tests.Support;
using Microsoft.Extensions.FileProviders;

namespace Inference.Tests.WebConsole;

/// <summary>
/// The console travels inside Inference.Server.dll (embedded resources), so whatever carries the
/// assembly carries the console: `dotnet publish` output, the single-file publish, the Docker images.
/// </summary>
public sealed class ConsolePackagingTests
{
    [Fact]
    public void Every_file_under_wwwroot_is_embedded_byte_for_byte_in_the_built_assembly()
    {
        var assembly = typeof(ConsoleApi).Assembly;
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "Inference.Server.dll"), assembly.Location);
        var embedded = new ManifestEmbeddedFileProvider(assembly, "WebConsole/wwwroot");
        var webRoot = Path.Combine(TestModels.RepoRoot(), "src", "Inference.Server", "WebConsole", "wwwroot");
        var onDisk = Directory.GetFiles(webRoot, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(webRoot, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("pages/chat.js", onDisk);
        // Nothing embedded that is not on disk (a stale file), and every file on disk embedded with the same bytes.
        Assert.Equal(onDisk.Count, assembly.GetManifestResourceNames().Count(n => n.Contains("WebConsole.wwwroot", StringComparison.Ordinal)));
        foreach (var file in onDisk)
        {
            var info = embedded.GetFileInfo("/" + file); // as the static-file middleware asks for it
            Assert.True(info.Exists, $"{file} is not embedded");
            using var stream = info.CreateReadStream();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.True(File.ReadAllBytes(Path.Combine(webRoot, file)).AsSpan().SequenceEqual(copy.ToArray()), $"{file} differs from the embedded copy");
        }
    }

    /// <summary>The images publish the project from a build context that holds src/ and keeps the console's files.</summary>
    [Theory]
    [InlineData("Dockerfile.cpu")]
    [InlineData("Dockerfile.cuda")]
    public void The_docker_images_publish_the_assembly_that_embeds_the_console(string dockerfile)
    {
        var root = TestModels.RepoRoot();
        var text = File.ReadAllText(Path.Combine(root, dockerfile));
        Assert.Contains("COPY src/ src/", text);
        Assert.Contains("RUN dotnet publish src/Inference.Server/Inference.Server.csproj", text);
        var ignored = File.ReadAllLines(Path.Combine(root, ".dockerignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
        Assert.All(ignored, pattern => Assert.DoesNotMatch(@"wwwroot|WebConsole|\*\.(js|css|html)|^src", pattern));
    }

    [Theory]
    [InlineData("http://127.0.0.1:11434", "http://127.0.0.1:11434/ui/")]
    [InlineData("http://0.0.0.0:11434", "http://127.0.0.1:11434/ui/")]
    [InlineData("http://[::]:8080", "http://[::1]:8080/ui/")]
    [InlineData("http://+:80", "http://127.0.0.1/ui/")]
    [InlineData("https://example.internal:443", "https://example.internal/ui/")]
    public void The_console_url_logged_at_start_up_is_one_a_browser_can_open(string listening, string expected) =>
        Assert.Equal(expected, ConsoleApi.UrlFor(listening));
}
