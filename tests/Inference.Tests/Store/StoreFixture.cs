using System.Security.Cryptography;
using System.Text;
using Inference.Engine.Store;
using Inference.Tests.Support;

namespace Inference.Tests.Store;

/// <summary>A store in a temporary directory plus helpers to populate it.</summary>
public sealed class StoreFixture : IDisposable
{
    private readonly TempDirectory _dir = new();

    public StoreFixture() => Store = new ModelStore(_dir.Path);

    public ModelStore Store { get; }

    public string Root => _dir.Path;

    public static string Sha256(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Creates a model whose layers are the given texts (first is the "model" layer) and writes its manifest.</summary>
    public async Task<ModelManifest> AddModelAsync(string name, string modelText, string? template = null)
    {
        var ct = CancellationToken.None;
        var model = await Store.WriteTextBlobAsync(modelText, MediaTypes.Model, ct);
        var layers = new List<ManifestLayer> { model };
        if (template is not null)
        {
            layers.Add(await Store.WriteTextBlobAsync(template, MediaTypes.Template, ct));
        }
        var config = await Store.WriteConfigAsync(new ModelConfig
        {
            ModelFormat = "gguf",
            ModelFamily = "llama",
            ModelFamilies = ["llama"],
            ModelType = "1.2B",
            FileType = "Q4_K_M",
            RootFs = new ModelRootFs { DiffIds = layers.Select(l => l.Digest).ToList() },
        }, ct);
        var manifest = new ModelManifest { Config = config, Layers = layers };
        await Store.WriteManifestAsync(ModelName.Parse(name), manifest, ct);
        return manifest;
    }

    public void Dispose() => _dir.Dispose();
}
