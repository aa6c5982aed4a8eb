using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Inference.Tests.Pull;
using Inference.Tests.Support;

namespace Inference.Tests.Store;

/// <summary>
/// Start-up pruning, with the server as an operator runs it: a separate process, killed with
/// SIGKILL in the middle of an upload, a create or a pull, then started again on the same models directory.
/// </summary>
public sealed class PruneTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<ServerProcess> _servers = [];

    private string Models => _dir.Combine("models");
    private string Blobs => Path.Combine(Models, "blobs");

    public void Dispose()
    {
        foreach (var server in _servers) server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _dir.Dispose();
    }

    /// <summary>Starts the server on <see cref="Models"/> and waits until it answers.</summary>
    private async Task<(Process Process, HttpClient Client)> StartAsync(IDictionary<string, string>? environment = null, params string[] settings)
    {
        int port = ServerProcess.FreePort();
        var server = ServerProcess.Start($"http://127.0.0.1:{port}",
            ["--urls", $"http://127.0.0.1:{port}", "--Inference:ModelsDirectory=" + Models, .. settings],
            environment is null ? null : new Dictionary<string, string>(environment));
        _servers.Add(server);
        await server.WaitReadyAsync();
        return (server.Process, server.Client);
    }

    private static void KillHard(Process process)
    {
        process.Kill(); // SIGKILL on Linux: no shutdown code runs
        process.WaitForExit();
    }

    private string[] Files() => !Directory.Exists(Models) ? [] :
        Directory.EnumerateFiles(Models, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Models, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();

    private string Blob(string content)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
        Directory.CreateDirectory(Blobs);
        File.WriteAllText(Path.Combine(Blobs, "sha256-" + hex), content);
        return hex;
    }

    private void Manifest(string relativePath, string text)
    {
        var path = Path.Combine(Models, "manifests", relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static string ManifestJson(params string[] hexes) =>
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        + $"\"config\":{{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"sha256:{hexes[0]}\",\"size\":1}},\"layers\":["
        + string.Join(",", hexes.Skip(1).Select(h => $"{{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:{h}\",\"size\":1}}")) + "]}";

    /// <summary>A models directory with every kind of leftover and every kind of reference; returns the files pruning must keep.</summary>
    private string[] Populate()
    {
        string config = Blob("config"), model = Blob("model"), otherHost = Blob("other host"), corrupt = Blob("only a corrupt manifest names me"),
            oddName = Blob("a manifest under a name this server would refuse"), unreferenced = Blob("nobody uses me");
        Manifest("registry.ollama.ai/library/m/latest", ManifestJson(config, model));
        Manifest("example.com:5000/team/x/v1", ManifestJson(config, otherHost));
        Manifest("registry.ollama.ai/library/broken/latest", $"{{ not json, but it names sha256:{corrupt}");
        Manifest("registry.ollama.ai/Weird..Name/m/latest", ManifestJson(config, oddName));
        Manifest("registry.ollama.ai/library/m/.latest.0123456789abcdef.tmp", ManifestJson(config, unreferenced)); // an interrupted manifest write
        File.WriteAllText(Path.Combine(Blobs, "sha256-partial-" + Guid.NewGuid().ToString("N")), "an interrupted import");
        File.WriteAllText(Path.Combine(Blobs, $"sha256-{new string('c', 64)}-partial"), "an interrupted download");
        File.WriteAllText(Path.Combine(Blobs, $"sha256-{new string('d', 64)}-partial-0"), "an interrupted download, as Ollama names its parts");
        File.WriteAllText(Path.Combine(Blobs, "README.txt"), "not ours: left alone");
        Assert.Contains($"blobs/sha256-{unreferenced}", Files());
        return new[]
        {
            "blobs/README.txt", $"blobs/sha256-{config}", $"blobs/sha256-{model}", $"blobs/sha256-{otherHost}", $"blobs/sha256-{corrupt}", $"blobs/sha256-{oddName}",
            "manifests/example.com:5000/team/x/v1", "manifests/registry.ollama.ai/Weird..Name/m/latest",
            "manifests/registry.ollama.ai/library/broken/latest", "manifests/registry.ollama.ai/library/m/latest",
        }.Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task Start_up_removes_leftovers_and_unreferenced_blobs_and_keeps_every_referenced_one()
    {
        var kept = Populate();
        var (process, client) = await StartAsync();
        Assert.Equal(kept, Files());
        // The server works on what is left.
        Assert.Contains("m:latest", await client.GetStringAsync("/api/tags"));
        KillHard(process);
    }

    [Theory]
    [InlineData("--Inference:PruneOnStart=false", null)]
    [InlineData(null, "1")]
    [InlineData(null, "true")]
    public async Task Pruning_is_off_with_the_setting_or_OLLAMA_NOPRUNE(string? setting, string? noPrune)
    {
        Populate();
        var everything = Files();
        var (process, _) = await StartAsync(noPrune is null ? null : new Dictionary<string, string> { ["OLLAMA_NOPRUNE"] = noPrune }, setting is null ? [] : [setting]);
        Assert.Equal(everything, Files());
        KillHard(process);
    }

    [Fact]
    public async Task OLLAMA_NOPRUNE_false_still_prunes()
    {
        var kept = Populate();
        var (process, _) = await StartAsync(new Dictionary<string, string> { ["OLLAMA_NOPRUNE"] = "false" });
        Assert.Equal(kept, Files());
        KillHard(process);
    }

    /// <summary>Request content that sends <paramref name="first"/> bytes, then waits until <see cref="Release"/> and sends more.</summary>
    private sealed class StallingContent(int first) : HttpContent
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(new byte[first]);
            await stream.FlushAsync();
            await _release.Task;
            await stream.WriteAsync(new byte[first]);
            await stream.FlushAsync();
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; files: {string.Join(", ", Files())}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_kill_during_a_blob_upload_leaves_nothing_after_a_restart()
    {
        var (process, client) = await StartAsync();
        var content = new StallingContent(8 << 20);
        var upload = client.PostAsync("/api/blobs/sha256:" + new string('e', 64), content);
        string Partial() => Directory.Exists(Blobs) ? Directory.GetFiles(Blobs, "sha256-partial-*").SingleOrDefault() ?? "" : "";
        await WaitForAsync(() => Partial() is { Length: > 0 } p && new FileInfo(p).Length >= 8 << 20, "the upload's temporary file");
        KillHard(process);
        content.Release(); // the rest of the body now meets a dead connection
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => upload.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Single(Files(), f => f.StartsWith("blobs/sha256-partial-"));

        (process, _) = await StartAsync();
        Assert.Empty(Files());
        KillHard(process);
    }

    [Fact]
    public async Task A_kill_during_a_pull_leaves_its_partial_download_only_while_pruning_is_off()
    {
        var gguf = await File.ReadAllBytesAsync(TestModels.Stories260K);
        await using var registry = new FakeRegistry(gguf) { StallAfter = 400_000 };
        await registry.StartAsync();
        var (process, client) = await StartAsync();
        var pull = client.PostAsync("/api/pull", TestServer.JsonContent(new { model = $"{registry.Host}/library/stories:latest", insecure = true }));
        await registry.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var partial = $"blobs/sha256-{FakeRegistry.Digest(gguf)[7..]}-partial";
        await WaitForAsync(() => Files().Contains(partial) && new FileInfo(Path.Combine(Models, partial)).Length == 400_000, "the partial download");
        KillHard(process);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => pull.WaitAsync(TimeSpan.FromSeconds(30)));
        // The config blob finished, the model did not; no manifest was written.
        Assert.Equal(new[] { $"blobs/sha256-{FakeRegistry.Digest(FakeRegistry.Config)[7..]}", partial }.Order(StringComparer.Ordinal), Files());

        (process, _) = await StartAsync(new Dictionary<string, string> { ["OLLAMA_NOPRUNE"] = "1" });
        Assert.Contains(partial, Files()); // kept for a resume, as Ollama keeps it with OLLAMA_NOPRUNE
        KillHard(process);

        (process, _) = await StartAsync();
        Assert.Empty(Files());
        KillHard(process);
    }

    [Fact]
    public async Task A_manifest_too_large_to_read_keeps_every_blob_but_temporaries_still_go()
    {
        var kept = Populate();
        // Larger than the 4 MiB the store reads: its references are unknown, so no blob may be removed.
        Manifest("registry.ollama.ai/library/huge/latest", new string(' ', (4 << 20) + 1));
        var unreferenced = "blobs/sha256-" + Convert.ToHexStringLower(SHA256.HashData("nobody uses me"u8));
        var (process, _) = await StartAsync();
        Assert.Equal(kept.Append(unreferenced).Append("manifests/registry.ollama.ai/library/huge/latest").Order(StringComparer.Ordinal), Files());
        KillHard(process);
    }

    /// <summary>
    /// A valid GGUF header with one F32 tensor of <paramref name="bytes"/> bytes; the data is a hole
    /// (a sparse file), so the file costs nothing to make but takes the server a while to copy.
    /// </summary>
    private static void WriteSparseGguf(string path, long bytes)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        using (var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("GGUF"u8);
            w.Write(3u);
            w.Write(1UL); // tensors
            w.Write(0UL); // metadata entries
            var name = "weights"u8;
            w.Write((ulong)name.Length);
            w.Write(name);
            w.Write(1u); // dimensions
            w.Write((ulong)(bytes / 4));
            w.Write(0u); // F32
            w.Write(0UL); // offset in the data section
        }
        long dataOffset = (file.Position + 31) / 32 * 32; // general.alignment defaults to 32
        file.SetLength(dataOffset + bytes);
    }

    [Fact]
    public async Task A_kill_during_a_create_from_a_file_leaves_nothing_after_a_restart()
    {
        var import = _dir.Combine("import");
        Directory.CreateDirectory(import);
        var gguf = Path.Combine(import, "big.gguf");
        WriteSparseGguf(gguf, 1L << 30);
        var (process, client) = await StartAsync(null, $"--Inference:ImportDirectories:0={import}");
        var create = client.PostAsync("/api/create", TestServer.JsonContent(new { model = "big", from = gguf }));
        // The copy into blobs/ has begun (the file is created before its first byte is written); a GiB takes far longer than a poll.
        await WaitForAsync(() => Files().Any(f => f.StartsWith("blobs/sha256-partial-", StringComparison.Ordinal)), "the create's temporary blob");
        KillHard(process);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => create.WaitAsync(TimeSpan.FromSeconds(30)));
        var left = Files();
        Assert.True(left.Length == 1 && left[0].StartsWith("blobs/sha256-partial-", StringComparison.Ordinal), string.Join(", ", left)); // no blob, no manifest

        (process, _) = await StartAsync();
        Assert.Empty(Files());
        Assert.Equal((1L << 30) + 64, new FileInfo(gguf).Length); // the operator's file is untouched
        KillHard(process);
    }
}
