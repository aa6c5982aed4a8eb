using System.Text;
using Inference.Engine.Store;
using Inference.Tests.Support;

namespace Inference.Tests.Store;

/// <summary>A models directory written by hand exactly as Ollama lays it out.</summary>
public class OllamaLayoutTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteBlob(string content)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        Directory.CreateDirectory(_dir.Combine("blobs"));
        File.WriteAllBytes(_dir.Combine("blobs", "sha256-" + hex), bytes);
        return "sha256:" + hex;
    }

    [Fact]
    public void ListsAndReadsOllamaStore()
    {
        var model = WriteBlob("GGUF fake weights");
        var template = WriteBlob("{{ .System }} {{ .Prompt }}");
        var system = WriteBlob("You are helpful.");
        var parameters = WriteBlob("{\"stop\":[\"<|eot_id|>\"],\"temperature\":0.7}");
        var license = WriteBlob("MIT");
        var config = WriteBlob(
            "{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"model_families\":[\"llama\"],\"model_type\":\"1.2B\"," +
            "\"file_type\":\"Q4_K_M\",\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" +
            model + "\",\"" + template + "\"]}}");
        // Go's encoder: compact, trailing newline; also an optional "from" on a layer.
        var manifest =
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"," +
            $"\"config\":{{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"{config}\",\"size\":{Size(config)}}}," +
            "\"layers\":[" +
            $"{{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"{model}\",\"size\":{Size(model)},\"from\":\"/tmp/x.gguf\"}}," +
            $"{{\"mediaType\":\"application/vnd.ollama.image.template\",\"digest\":\"{template}\",\"size\":{Size(template)}}}," +
            $"{{\"mediaType\":\"application/vnd.ollama.image.system\",\"digest\":\"{system}\",\"size\":{Size(system)}}}," +
            $"{{\"mediaType\":\"application/vnd.ollama.image.params\",\"digest\":\"{parameters}\",\"size\":{Size(parameters)}}}," +
            $"{{\"mediaType\":\"application/vnd.ollama.image.license\",\"digest\":\"{license}\",\"size\":{Size(license)}}}]}}\n";
        var dir = _dir.Combine("manifests", "registry.ollama.ai", "library", "llama3.2");
        Directory.CreateDirectory(dir);
        var manifestBytes = Encoding.UTF8.GetBytes(manifest);
        File.WriteAllBytes(Path.Combine(dir, "1b"), manifestBytes);
        var hostDir = _dir.Combine("manifests", "example.com:5000", "team", "coder");
        Directory.CreateDirectory(hostDir);
        File.WriteAllBytes(Path.Combine(hostDir, "v1"), manifestBytes);

        var store = new ModelStore(_dir.Path);
        var models = store.List().OrderBy(m => m.Name.DisplayShortest()).ToList();

        Assert.Equal(["example.com:5000/team/coder:v1", "llama3.2:1b"], models.Select(m => m.Name.DisplayShortest()));
        var m = models[1];
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(manifestBytes)), m.Digest);
        Assert.Equal(new[] { config, model, template, system, parameters, license }.Sum(Size), m.Size);
        Assert.Equal("/tmp/x.gguf", m.Manifest.Layers[0].From);
        Assert.Equal("GGUF fake weights", File.ReadAllText(store.ModelPath(m.Manifest)));
        Assert.Equal("You are helpful.", store.ReadText(m.Manifest.Find(MediaTypes.System)!));
        Assert.Equal("MIT", store.ReadText(m.Manifest.Find(MediaTypes.License)!));
        Assert.Equal(0.7, store.ReadParams(m.Manifest)!["temperature"].GetDouble());
        var cfg = store.ReadConfig(m.Manifest)!;
        Assert.Equal(("llama", "1.2B", "amd64", "linux"), (cfg.ModelFamily, cfg.ModelType, cfg.Architecture, cfg.OS));
        Assert.Equal([model, template], cfg.RootFs!.DiffIds);

        // Deleting one keeps every blob (all shared by the other), then deleting the other empties the store.
        Assert.True(store.Delete(ModelName.Parse("llama3.2:1b")));
        Assert.Equal(6, Directory.GetFiles(_dir.Combine("blobs")).Length);
        Assert.True(store.Delete(ModelName.Parse("example.com:5000/team/coder:v1")));
        Assert.Empty(Directory.GetFiles(_dir.Combine("blobs")));
    }

    private long Size(string digest) => new FileInfo(_dir.Combine("blobs", digest.Replace(':', '-'))).Length;
}
