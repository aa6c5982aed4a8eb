using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Inference.Engine.Store;

namespace Inference.Tests.Store;

public class ModelStoreManifestTests : IDisposable
{
    private readonly StoreFixture _f = new();
    private ModelStore Store => _f.Store;

    public void Dispose() => _f.Dispose();

    [Fact]
    public async Task WriteListGet_RoundTrip()
    {
        var manifest = await _f.AddModelAsync("stories:260k", "GGUF weights", template: "{{ .Prompt }}");
        var name = ModelName.Parse("stories:260k");

        var path = Path.Combine(_f.Root, "manifests", "registry.ollama.ai", "library", "stories", "260k");
        Assert.True(File.Exists(path));
        var bytes = await File.ReadAllBytesAsync(path);

        var listed = Assert.Single(Store.List());
        Assert.Equal(name, listed.Name);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), listed.Digest);
        Assert.Equal(manifest.Config.Size + manifest.Layers.Sum(l => l.Size), listed.Size);
        Assert.Equal(File.GetLastWriteTimeUtc(path), listed.ModifiedAt.UtcDateTime);
        Assert.Equal(manifest.Layers, listed.Manifest.Layers);
        Assert.Equal(manifest.Config, listed.Manifest.Config);

        var got = Store.Get(ModelName.Parse("Stories:260K")); // any letter case
        Assert.NotNull(got);
        Assert.Equal(listed.Digest, got.Digest);
        Assert.Equal("stories:260k", got.Name.DisplayShortest()); // spelled as on disk

        var read = Store.GetManifest(name)!;
        Assert.Equal("{{ .Prompt }}", Store.ReadText(read.Find(MediaTypes.Template)!));
        Assert.Equal("GGUF weights", await File.ReadAllTextAsync(Store.ModelPath(read)));
        var config = Store.ReadConfig(read)!;
        Assert.Equal("gguf", config.ModelFormat);
        Assert.Equal("Q4_K_M", config.FileType);
        Assert.Equal(read.Layers.Select(l => l.Digest), config.RootFs!.DiffIds);
        Assert.Null(read.Find(MediaTypes.System));
        Assert.Null(Store.ReadParams(read));

        Assert.Null(Store.Get(ModelName.Parse("stories:other")));
        Assert.Null(Store.GetManifest(ModelName.Parse("other")));
    }

    [Fact]
    public async Task ManifestJson_UsesOllamaFieldNames()
    {
        await _f.AddModelAsync("m", "weights");
        var json = await File.ReadAllTextAsync(Path.Combine(_f.Root, "manifests", "registry.ollama.ai", "library", "m", "latest"));
        Assert.StartsWith("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"sha256:", json);
        Assert.Contains("\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:", json);
        Assert.DoesNotContain("from", json);

        var config = await File.ReadAllTextAsync(Store.BlobPath(Store.GetManifest(ModelName.Parse("m"))!.Config.Digest));
        Assert.StartsWith("{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"model_families\":[\"llama\"],\"model_type\":\"1.2B\",\"file_type\":\"Q4_K_M\"", config);
        Assert.Contains("\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:", config);
    }

    [Fact]
    public async Task WriteManifest_RefusesMissingBlobs()
    {
        var config = await Store.WriteConfigAsync(new ModelConfig(), CancellationToken.None);
        var missing = new ManifestLayer(MediaTypes.Model, StoreFixture.Sha256("not stored"), 10);
        var manifest = new ModelManifest { Config = config, Layers = [missing] };

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Store.WriteManifestAsync(ModelName.Parse("m"), manifest, CancellationToken.None));
        Assert.Contains(missing.Digest, e.Message);
        Assert.Empty(Store.List());
    }

    [Fact]
    public async Task WriteManifest_Overwrites_CaseInsensitively()
    {
        await _f.AddModelAsync("Model:Tag", "one");
        await _f.AddModelAsync("model:tag", "two");

        var only = Assert.Single(Store.List());
        Assert.Equal("Model:Tag", only.Name.DisplayShortest());
        Assert.Equal("two", await File.ReadAllTextAsync(Store.ModelPath(only.Manifest)));
        // No temp files left next to the manifest.
        Assert.Single(Directory.GetFiles(Path.Combine(_f.Root, "manifests", "registry.ollama.ai", "library", "Model")));
    }

    [Fact]
    public async Task Delete_KeepsSharedBlobs_RemovesOthers()
    {
        var a = await _f.AddModelAsync("a", "shared weights", template: "template A");
        var b = await _f.AddModelAsync("myns/b:1", "shared weights", template: "template B");
        var sharedModel = a.Find(MediaTypes.Model)!.Digest;
        Assert.Equal(sharedModel, b.Find(MediaTypes.Model)!.Digest);

        Assert.True(Store.Delete(ModelName.Parse("A:LATEST")));

        Assert.True(Store.BlobExists(sharedModel));
        Assert.False(Store.BlobExists(a.Find(MediaTypes.Template)!.Digest));
        Assert.True(Store.BlobExists(b.Find(MediaTypes.Template)!.Digest));
        // a's config differs from b's (diff_ids list different templates) and is gone too.
        Assert.False(Store.BlobExists(a.Config.Digest));
        Assert.Equal(ModelName.Parse("myns/b:1"), Assert.Single(Store.List()).Name);
        // Empty directories of the deleted name are pruned; the manifests root stays.
        Assert.False(Directory.Exists(Path.Combine(_f.Root, "manifests", "registry.ollama.ai", "library")));
        Assert.True(Directory.Exists(Path.Combine(_f.Root, "manifests", "registry.ollama.ai", "myns", "b")));

        Assert.False(Store.Delete(ModelName.Parse("a")));

        Assert.True(Store.Delete(ModelName.Parse("myns/b:1")));
        Assert.Empty(Directory.GetFiles(Store.BlobsDirectory));
        Assert.Empty(Directory.GetFileSystemEntries(Store.ManifestsDirectory));
    }

    [Fact]
    public async Task Copy_SharesBlobs()
    {
        var manifest = await _f.AddModelAsync("src", "weights");

        Assert.True(Store.Copy(ModelName.Parse("src"), ModelName.Parse("other/dst:v2")));
        Assert.False(Store.Copy(ModelName.Parse("missing"), ModelName.Parse("x")));
        Assert.True(Store.Copy(ModelName.Parse("src"), ModelName.Parse("SRC")));

        var models = Store.List().ToDictionary(m => m.Name.DisplayShortest());
        Assert.Equal(["other/dst:v2", "src:latest"], models.Keys.Order());
        Assert.Equal(models["src:latest"].Digest, models["other/dst:v2"].Digest);
        Assert.Equal(manifest.Layers, models["other/dst:v2"].Manifest.Layers);

        Assert.True(Store.Delete(ModelName.Parse("src")));
        Assert.Equal("weights", await File.ReadAllTextAsync(Store.ModelPath(Store.GetManifest(ModelName.Parse("other/dst:v2"))!)));
    }

    [Fact]
    public async Task List_SkipsInvalidEntries()
    {
        await _f.AddModelAsync("good", "weights");
        var library = Path.Combine(_f.Root, "manifests", "registry.ollama.ai", "library");
        Directory.CreateDirectory(Path.Combine(library, "broken"));
        await File.WriteAllTextAsync(Path.Combine(library, "broken", "latest"), "{not json");
        Directory.CreateDirectory(Path.Combine(library, "noconfig"));
        await File.WriteAllTextAsync(Path.Combine(library, "noconfig", "latest"), "{\"schemaVersion\":2,\"layers\":[]}");
        Directory.CreateDirectory(Path.Combine(library, "baddigest"));
        await File.WriteAllTextAsync(Path.Combine(library, "baddigest", "latest"),
            "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:../../x\",\"size\":1},\"layers\":[]}");
        await File.WriteAllTextAsync(Path.Combine(library, "stray-file"), "{}");              // too shallow
        Directory.CreateDirectory(Path.Combine(library, "deep", "er"));
        await File.WriteAllTextAsync(Path.Combine(library, "deep", "er", "x"), "{}");         // too deep
        Directory.CreateDirectory(Path.Combine(library, "good2"));
        await File.WriteAllTextAsync(Path.Combine(library, "good2", ".latest.tmp"), "{}");    // not a valid tag

        var only = Assert.Single(Store.List());
        Assert.Equal("good:latest", only.Name.DisplayShortest());
        Assert.Throws<InvalidManifestException>(() => Store.GetManifest(ModelName.Parse("broken")));
        Assert.Throws<InvalidManifestException>(() => Store.GetManifest(ModelName.Parse("baddigest")));

        // Deleting a corrupt manifest still works and does not touch other blobs.
        Assert.True(Store.Delete(ModelName.Parse("broken")));
        Assert.NotNull(Store.Get(ModelName.Parse("good")));
    }

    [Fact]
    public async Task ModelPath_ThrowsWhenModelLayerOrBlobMissing()
    {
        var manifest = await _f.AddModelAsync("m", "weights");
        var noModel = new ModelManifest { Config = manifest.Config, Layers = [] };
        Assert.Throws<InvalidManifestException>(() => Store.ModelPath(noModel));

        File.Delete(Store.BlobPath(manifest.Layers[0].Digest));
        Assert.Throws<InvalidManifestException>(() => Store.ModelPath(manifest));
        Assert.Null(Store.ReadText(manifest.Layers[0]));
    }

    [Fact]
    public async Task Params_RoundTrip()
    {
        var ct = CancellationToken.None;
        var parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("{\"stop\":[\"x\"],\"temperature\":0.7}")!;
        var layer = await Store.WriteParamsAsync(parameters, ct);
        Assert.Equal(MediaTypes.Params, layer.MediaType);
        Assert.Equal("{\"stop\":[\"x\"],\"temperature\":0.7}", File.ReadAllText(Store.BlobPath(layer.Digest)));
        var config = await Store.WriteConfigAsync(new ModelConfig(), ct);
        var manifest = new ModelManifest { Config = config, Layers = [layer] };

        var read = Store.ReadParams(manifest)!;
        Assert.Equal("x", read["stop"][0].GetString());
        Assert.Equal(0.7, read["temperature"].GetDouble());
    }

    [Fact]
    public async Task ConcurrentWritesAndDeletes_DoNotCorrupt()
    {
        await _f.AddModelAsync("base", "weights");
        var manifest = Store.GetManifest(ModelName.Parse("base"))!;
        var tasks = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            var name = ModelName.Parse($"m{i % 4}");
            await Store.WriteManifestAsync(name, manifest, CancellationToken.None);
            if (i % 3 == 0)
            {
                Store.Delete(name);
            }
        }));
        await Task.WhenAll(tasks);

        Assert.True(Store.BlobExists(manifest.Layers[0].Digest)); // "base" still references it
        Assert.All(Store.List(), m => Assert.Equal(manifest.Layers, m.Manifest.Layers));
    }
}
