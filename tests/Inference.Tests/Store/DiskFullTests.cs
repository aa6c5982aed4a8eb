using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Engine.Backend;
using Inference.Engine.Store;
using Inference.ModelGen;
using Inference.Tests.Pull;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Inference.Tests.Store;

/// <summary>The real server whose store writes through a <see cref="SimulatedDisk"/>.</summary>
public sealed class FullDiskServer : TestServer
{
    public SimulatedDisk Disk { get; } = new();

    protected override void Configure(WebApplicationBuilder builder) =>
        builder.Services.AddSingleton(sp => new ModelStore(sp.GetRequiredService<IOptions<EngineOptions>>().Value.ModelsDirectory)
        {
            OpenForWriting = Disk.Open,
        });
}

/// <summary>
/// A full disk on every writing route: 507 with Ollama's error object before the first byte, an
/// error object as the last line once a stream has started, and nothing the operation wrote left
/// behind (the whole models directory is compared file by file).
/// </summary>
public sealed class DiskFullTests(FullDiskServer server) : IClassFixture<FullDiskServer>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose()
    {
        server.Disk.Reset();
        _files.Dispose();
    }

    private string[] StoreFiles() =>
        Directory.EnumerateFiles(server.ModelsDirectory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(server.ModelsDirectory, f)).Order(StringComparer.Ordinal).ToArray();

    /// <summary>A copy of stories260K with its own digest (so it is new to the store), in the temp folder the test server may import from.</summary>
    private async Task<(string Path, byte[] Bytes)> StoriesCopyAsync(byte salt)
    {
        var bytes = await File.ReadAllBytesAsync(TestModels.Stories260K);
        bytes[^1] ^= salt;
        var path = _files.Combine($"stories-{salt}.gguf");
        await File.WriteAllBytesAsync(path, bytes);
        return (path, bytes);
    }

    private static void AssertFull(int status, JsonNode? body, string what)
    {
        Assert.Equal(507, status);
        Assert.Equal($"not enough disk space in the models directory to write {what}", (string)body!["error"]!);
    }

    private bool IsManifest(string path) => path.StartsWith(Path.Combine(server.ModelsDirectory, "manifests"), StringComparison.Ordinal);

    [Fact]
    public async Task A_blob_upload_that_fills_the_disk_is_a_507_and_leaves_nothing()
    {
        var (_, bytes) = await StoriesCopyAsync(0x71);
        var before = StoreFiles();
        server.Disk.FreeBytes = 100_000;
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await server.Client.PostAsync("/api/blobs/sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)), content);
        AssertFull((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync()), "a blob");
        Assert.Equal(before, StoreFiles());
    }

    [Fact]
    public async Task A_create_that_fills_the_disk_before_streaming_is_a_507()
    {
        var (path, _) = await StoriesCopyAsync(0x72);
        var before = StoreFiles();
        server.Disk.FreeBytes = 100_000;
        var (status, body) = await server.PostAsync("/api/create", new { model = "full-create", from = path, stream = false });
        AssertFull(status, body, "a blob");
        Assert.Equal(before, StoreFiles());
    }

    [Fact]
    public async Task A_streamed_create_whose_manifest_does_not_fit_ends_with_an_error_and_removes_its_blobs()
    {
        var (path, _) = await StoriesCopyAsync(0x73);
        var before = StoreFiles();
        server.Disk.FullFor = IsManifest; // the model, system and config blobs fit; the manifest does not
        var lines = await server.StreamAsync("/api/create", new { model = "full-manifest", from = path, system = "Once upon a time" });
        Assert.Contains(lines, l => ((string?)l["status"])?.StartsWith("creating new layer ") == true); // blobs were written
        Assert.Equal("not enough disk space in the models directory to write the manifest of full-manifest:latest", (string)lines[^1]["error"]!);
        Assert.Equal(before, StoreFiles());
        Assert.False(Directory.Exists(Path.Combine(server.ModelsDirectory, "manifests", "registry.ollama.ai", "library", "full-manifest")));
    }

    [Fact]
    public async Task A_quantizing_create_that_cannot_write_its_manifest_removes_both_models_blobs()
    {
        var f16 = _files.Combine("tiny-f16.gguf");
        ModelGenerator.WriteF16(ModelPreset.All["tiny"], f16, seed: 7);
        var before = StoreFiles();
        server.Disk.FullFor = IsManifest;
        var lines = await server.StreamAsync("/api/create", new { model = "full-quantized", from = f16, quantize = "q4_K_M" });
        Assert.Contains("quantizing F16 model to Q4_K_M", lines.Select(l => (string?)l["status"]));
        Assert.Equal("not enough disk space in the models directory to write the manifest of full-quantized:latest", (string)lines[^1]["error"]!);
        Assert.Equal(before, StoreFiles()); // neither the F16 import nor the quantized blob stays
    }

    [Fact]
    public async Task A_copy_that_cannot_write_its_manifest_is_a_507()
    {
        var before = StoreFiles();
        server.Disk.FullFor = IsManifest;
        var (status, body) = await server.PostAsync("/api/copy", new { source = "stories", destination = "stories-copy" });
        AssertFull(status, body, "the manifest of stories-copy:latest");
        Assert.Equal(before, StoreFiles());
        Assert.False(Directory.Exists(Path.Combine(server.ModelsDirectory, "manifests", "registry.ollama.ai", "library", "stories-copy")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_pull_that_fills_the_disk_removes_its_partial_download(bool stream)
    {
        var (_, bytes) = await StoriesCopyAsync(stream ? (byte)0x74 : (byte)0x75);
        await using var registry = new FakeRegistry(bytes);
        await registry.StartAsync();
        var before = StoreFiles();
        server.Disk.FreeBytes = 300_000; // the config fits, the model stops a quarter of the way
        var request = new { model = $"{registry.Host}/library/stories:latest", insecure = true, stream };
        var message = $"not enough disk space in the models directory to download {FakeRegistry.Digest(bytes)}";
        if (stream)
        {
            var lines = await server.StreamAsync("/api/pull", request);
            Assert.Equal(message, (string)lines[^1]["error"]!);
        }
        else
        {
            var (status, body) = await server.PostAsync("/api/pull", request);
            Assert.Equal(507, status);
            Assert.Equal(message, (string)body!["error"]!);
        }
        Assert.Equal(before, StoreFiles());
    }

    [Fact]
    public async Task A_pull_whose_manifest_does_not_fit_removes_the_blobs_it_downloaded()
    {
        var (_, bytes) = await StoriesCopyAsync(0x76);
        await using var registry = new FakeRegistry(bytes);
        await registry.StartAsync();
        var before = StoreFiles();
        server.Disk.FullFor = IsManifest;
        var lines = await server.StreamAsync("/api/pull", new { model = $"{registry.Host}/library/stories:latest", insecure = true });
        Assert.Equal($"not enough disk space in the models directory to write the manifest of {registry.Host}/library/stories:latest", (string)lines[^1]["error"]!);
        Assert.Equal(before, StoreFiles());
    }
}
