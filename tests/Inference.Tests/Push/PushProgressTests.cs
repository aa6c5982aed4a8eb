using Inference.Engine.Store;
using Inference.Tests.Support;

namespace Inference.Tests.Push;

/// <summary>With the default chunk size (100 MiB) a blob goes in one PATCH, and progress still comes every MiB sent.</summary>
public sealed class PushProgressTests(PushDefaultsServer server) : IClassFixture<PushDefaultsServer>
{
    [Fact]
    public async Task One_chunk_reports_progress_every_MiB_while_it_is_sent()
    {
        await using var registry = new UploadRegistry();
        await registry.StartAsync();
        var name = $"{registry.Host}/tests/onechunk:v1";
        Assert.Equal(200, (await server.PostAsync("/api/copy", new { source = "stories", destination = name })).Status);
        var model = server.Get<ModelStore>().GetManifest(ModelName.Parse(name))!.Find(MediaTypes.Model)!;
        Assert.InRange(model.Size, (1 << 20) + 1, 2 << 20);

        var lines = await server.StreamAsync("/api/push", new { model = name, insecure = true });
        var progress = lines.Where(l => (string?)l["digest"] == model.Digest).Select(l => (long)l["completed"]!);
        Assert.Equal([0, 1 << 20, model.Size], progress);
        Assert.Equal($"PATCH session1 0-{model.Size - 1}", Assert.Single(registry.Log, e => e.StartsWith("PATCH session1 ")));
        Assert.Equal("success", (string)lines[^1]["status"]!);
    }
}

public sealed class PushDefaultsServer : TestServer;
