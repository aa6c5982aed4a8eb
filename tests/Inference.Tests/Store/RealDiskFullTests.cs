using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Inference.ModelGen;
using Inference.Server.Hosting;
using Inference.Tests.Pull;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Builder;

namespace Inference.Tests.Store;

/// <summary>
/// The real server with its models directory on a small tmpfs, so the kernel itself answers
/// ENOSPC. The tests run as root (as CI does); a failed mount fails the tests rather than skipping them.
/// </summary>
public sealed class TmpfsServer : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private WebApplication? _app;

    public string Mount => _dir.Combine("disk");
    public string ModelsDirectory => Path.Combine(Mount, "models");
    /// <summary>A generated F16 llama that fits on the disk with 2 MiB to spare; its Q4_K_M quantization does not.</summary>
    public string F16 => _dir.Combine("tiny-f16.gguf");
    public long DiskBytes { get; private set; }
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ModelGenerator.WriteF16(ModelPreset.All["tiny"], F16, seed: 9);
        DiskBytes = (new FileInfo(F16).Length + (2 << 20) + 4095) / 4096 * 4096;
        Directory.CreateDirectory(Mount);
        var (code, output) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={DiskBytes}", "tmpfs", Mount);
        Assert.True(code == 0, $"mounting a tmpfs needs root (CI runs the tests as root): mount exited {code}: {output}");
        _app = InferenceServer.Build([
            "--urls", "http://127.0.0.1:0",
            $"--Inference:ModelsDirectory={ModelsDirectory}",
            $"--Inference:ImportDirectories:0={_dir.Path}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await _app.StartAsync();
        Client = new HttpClient { BaseAddress = new Uri(_app.Urls.First()), Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        await RunAsync("umount", Mount);
        _dir.Dispose();
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}

/// <summary>A full disk for real (a tmpfs): 507s, an error line in a started stream, and nothing left behind.</summary>
public sealed class RealDiskFullTests(TmpfsServer server) : IClassFixture<TmpfsServer>
{
    private string[] StoreFiles() =>
        Directory.Exists(server.ModelsDirectory)
            ? Directory.EnumerateFiles(server.ModelsDirectory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(server.ModelsDirectory, f)).Order().ToArray()
            : [];

    private static async Task<(int Status, JsonNode Body)> ReadAsync(HttpResponseMessage response) =>
        ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);

    [Fact]
    public async Task A_blob_larger_than_the_free_space_is_refused_before_reading_or_when_the_disk_fills()
    {
        var body = new byte[server.DiskBytes + (1 << 20)];
        Random.Shared.NextBytes(body);
        var digest = FakeRegistry.Digest(body);

        // With a Content-Length, refused before a byte is written.
        using (var announced = await server.Client.PostAsync($"/api/blobs/{digest}", new ByteArrayContent(body)))
        {
            var (status, r) = await ReadAsync(announced);
            Assert.Equal(507, status);
            Assert.StartsWith($"not enough disk space in the models directory to write the blob: {body.Length} bytes needed, ", (string)r["error"]!);
        }
        Assert.Empty(StoreFiles());

        // Chunked, with no length: the kernel says ENOSPC part way; the partial file is removed.
        var chunked = new StreamContent(new MemoryStream(body));
        chunked.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/blobs/{digest}") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using (var response = await server.Client.SendAsync(request))
        {
            var (status, r) = await ReadAsync(response);
            Assert.Equal(507, status);
            Assert.Equal("not enough disk space in the models directory to write a blob", (string)r["error"]!);
        }
        Assert.Empty(StoreFiles());
    }

    [Fact]
    public async Task A_quantization_that_fills_the_disk_ends_the_stream_with_an_error_and_removes_every_blob_it_wrote()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/create")
        {
            Content = TestServer.JsonContent(new { model = "too-big", from = server.F16, quantize = "q4_K_M" }),
        };
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Contains("quantizing F16 model to Q4_K_M", lines.Select(l => (string?)l["status"]));
        Assert.Equal("not enough disk space in the models directory to quantize the model to q4_K_M", (string)lines[^1]["error"]!);
        Assert.Empty(StoreFiles());
    }

    [Fact]
    public async Task A_pull_whose_blobs_cannot_fit_is_a_507_before_anything_is_downloaded()
    {
        var gguf = await File.ReadAllBytesAsync(TestModels.Stories260K);
        await using var registry = new FakeRegistry(gguf);
        registry.AddManifest("big", FakeRegistry.ManifestJson(("application/vnd.docker.container.image.v1+json", registry.AddBlob(FakeRegistry.Config), FakeRegistry.Config.Length),
            [("application/vnd.ollama.image.model", "sha256:" + new string('b', 64), 1L << 30)]));
        await registry.StartAsync();
        using var response = await server.Client.PostAsync("/api/pull", TestServer.JsonContent(new { model = $"{registry.Host}/library/big:latest", insecure = true }));
        var (status, r) = await ReadAsync(response);
        Assert.Equal(507, status);
        Assert.StartsWith($"not enough disk space in the models directory to write the model's blobs: {(1L << 30) + FakeRegistry.Config.Length} bytes needed, ", (string)r["error"]!);
        Assert.Empty(registry.BlobRequests);
        Assert.Empty(StoreFiles());
    }
}
