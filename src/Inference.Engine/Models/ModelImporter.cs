using System.Text.Json;
using Inference.Engine.Gguf;
using Inference.Engine.Prompting;
using Inference.Engine.Store;

namespace Inference.Engine.Models;

/// <summary>What /api/create (or a start-up --model option) asks for.</summary>
public sealed record CreateSpec
{
    public required ModelName Name { get; init; }
    /// <summary>An installed model to start from.</summary>
    public ModelName? FromModel { get; init; }
    /// <summary>A GGUF file on the server's disk, copied into the store.</summary>
    public string? FromFile { get; init; }
    /// <summary>A GGUF blob already uploaded with POST /api/blobs.</summary>
    public string? FromBlob { get; init; }
    public string? Template { get; init; }
    public string? System { get; init; }
    public ModelOptions? Parameters { get; init; }
    public string? License { get; init; }
}

/// <summary>A create request that cannot succeed; nothing in the store was changed.</summary>
public sealed class CreateException(string message, bool notFound = false) : Exception(message)
{
    public bool NotFound { get; } = notFound;
}

/// <summary>
/// Builds manifests the way Ollama does: a config blob plus model/template/system/params/license
/// layers, all content-addressed. The GGUF is validated before anything is written.
/// </summary>
public sealed class ModelImporter(ModelStore store)
{
    public async Task CreateAsync(CreateSpec spec, Action<string> progress, CancellationToken ct)
    {
        if (spec.Template is { } template)
        {
            try { GoTemplate.Parse(template); }
            catch (TemplateParseException ex) { throw new CreateException("invalid template: " + ex.Message); }
        }

        var layers = new List<ManifestLayer>();
        ManifestLayer modelLayer;
        GgufFile gguf;
        if (spec.FromModel is { } from)
        {
            var baseModel = store.GetManifest(from) ?? throw new CreateException($"model '{from.DisplayShortest()}' not found", notFound: true);
            modelLayer = baseModel.Find(MediaTypes.Model) ?? throw new CreateException($"model '{from.DisplayShortest()}' has no model layer");
            gguf = ReadGguf(store.BlobPath(modelLayer.Digest));
            layers.AddRange(baseModel.Layers.Where(l => l.MediaType != MediaTypes.Model));
            progress($"using existing layer {modelLayer.Digest}");
        }
        else if (spec.FromBlob is { } digest)
        {
            if (!store.BlobExists(digest)) throw new CreateException($"blob {digest} not found: upload it first with POST /api/blobs/{digest}");
            gguf = ReadGguf(store.BlobPath(digest));
            modelLayer = new ManifestLayer(MediaTypes.Model, digest, new FileInfo(store.BlobPath(digest)).Length);
            progress($"using existing layer {digest}");
        }
        else if (spec.FromFile is { } file)
        {
            if (!File.Exists(file)) throw new CreateException($"file '{file}' not found", notFound: true);
            gguf = ReadGguf(file);
            progress("parsing GGUF");
            modelLayer = await store.ImportFileAsync(file, MediaTypes.Model, ct);
            progress($"creating new layer {modelLayer.Digest}");
        }
        else
        {
            throw new CreateException("neither 'from' nor 'files' names a model to create from");
        }

        layers.Insert(0, modelLayer);
        await Replace(layers, MediaTypes.Template, spec.Template, progress, ct);
        await Replace(layers, MediaTypes.System, spec.System, progress, ct);
        await Replace(layers, MediaTypes.License, spec.License, progress, ct);
        if (spec.Parameters is { } parameters)
            await Replace(layers, MediaTypes.Params, JsonSerializer.Serialize(parameters, EngineJsonContext.Default.ModelOptions), progress, ct);

        var config = await store.WriteConfigAsync(new ModelConfig
        {
            ModelFormat = "gguf",
            ModelFamily = gguf.Architecture,
            ModelFamilies = [gguf.Architecture],
            ModelType = GgufNames.FormatParameterSize(gguf.ParameterCount),
            FileType = GgufNames.QuantizationLevel(gguf),
            Architecture = "amd64",
            OS = "linux",
            RootFs = new ModelRootFs { DiffIds = layers.Select(l => l.Digest).ToList() },
        }, ct);

        progress("writing manifest");
        await store.WriteManifestAsync(spec.Name, new ModelManifest { Config = config, Layers = layers }, ct);
        progress("success");
    }

    private static GgufFile ReadGguf(string path)
    {
        try
        {
            return GgufFile.Read(path);
        }
        catch (InvalidGgufException ex)
        {
            throw new CreateException($"invalid model file: {ex.Message}");
        }
    }

    private async Task Replace(List<ManifestLayer> layers, string mediaType, string? text, Action<string> progress, CancellationToken ct)
    {
        if (text is null) return;
        layers.RemoveAll(l => l.MediaType == mediaType);
        if (text.Length == 0) return;
        var layer = await store.WriteTextBlobAsync(text, mediaType, ct);
        progress($"creating new layer {layer.Digest}");
        layers.Add(layer);
    }
}
