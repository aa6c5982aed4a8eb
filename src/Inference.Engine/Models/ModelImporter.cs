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
    /// <summary>A conversation every chat with this model starts with (Ollama's messages layer).</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    /// <summary>Quantize the GGUF to this type (Ollama's names: q4_K_M, q4_0, q8_0, ...); F16/F32 sources only.</summary>
    public string? Quantize { get; init; }
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
            gguf = CheckParameters(spec, ReadGguf(store.BlobPath(modelLayer.Digest)));
            layers.AddRange(baseModel.Layers.Where(l => l.MediaType != MediaTypes.Model));
            progress($"using existing layer {modelLayer.Digest}");
        }
        else if (spec.FromBlob is { } digest)
        {
            if (!store.BlobExists(digest)) throw new CreateException($"blob {digest} not found: upload it first with POST /api/blobs/{digest}");
            gguf = CheckParameters(spec, ReadGguf(store.BlobPath(digest)));
            modelLayer = new ManifestLayer(MediaTypes.Model, digest, new FileInfo(store.BlobPath(digest)).Length);
            progress($"using existing layer {digest}");
        }
        else if (spec.FromFile is { } file)
        {
            if (!File.Exists(file)) throw new CreateException($"file '{file}' not found", notFound: true);
            gguf = CheckParameters(spec, ReadGguf(file));
            progress("parsing GGUF");
            modelLayer = await store.ImportFileAsync(file, MediaTypes.Model, ct);
            progress($"creating new layer {modelLayer.Digest}");
        }
        else
        {
            throw new CreateException("neither 'from' nor 'files' names a model to create from");
        }

        if (spec.Quantize is { Length: > 0 } quantize)
            (modelLayer, gguf) = await QuantizeAsync(store.BlobPath(modelLayer.Digest), gguf, quantize, progress, ct);

        layers.Insert(0, modelLayer);
        await Replace(layers, MediaTypes.Template, spec.Template, progress, ct);
        await Replace(layers, MediaTypes.System, spec.System, progress, ct);
        await Replace(layers, MediaTypes.License, spec.License, progress, ct);
        if (spec.Messages is { Count: > 0 } messages)
            await Replace(layers, MediaTypes.Messages, JsonSerializer.Serialize(messages.ToArray(), EngineJsonContext.Default.ChatMessageArray), progress, ct);
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

    /// <summary>The quantization types offered, by Ollama's names.</summary>
    public static readonly IReadOnlyList<string> QuantizationTypes =
        ["q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_K", "q3_K_S", "q3_K_M", "q3_K_L", "q4_K_S", "q4_K_M", "q5_K_S", "q5_K_M", "q6_K"];

    /// <summary>Quantizes with llama.cpp (LLamaSharp's quantizer) into a temporary file, then stores it as the model blob.</summary>
    private async Task<(ManifestLayer Layer, GgufFile Gguf)> QuantizeAsync(string source, GgufFile gguf, string target,
        Action<string> progress, CancellationToken ct)
    {
        var name = QuantizationTypes.FirstOrDefault(q => q.Equals(target, StringComparison.OrdinalIgnoreCase))
            ?? throw new CreateException($"unsupported quantization type '{target}': use one of {string.Join(", ", QuantizationTypes)}");
        var from = GgufNames.QuantizationLevel(gguf);
        if (from is not ("F32" or "F16" or "BF16"))
            throw new CreateException($"quantization is only supported for F16 and F32 models (this one is {from})");
        if (!Enum.TryParse<LLama.Native.LLamaFtype>("MOSTLY_" + name.ToUpperInvariant(), ignoreCase: true, out var ftype))
            throw new CreateException($"unsupported quantization type '{target}'");
        // Every quantized type (and llama.cpp's fallbacks for K-quants) packs rows in blocks of at
        // least 32 values; say which tensor is in the way rather than a bare llama.cpp failure.
        if (gguf.Tensors.FirstOrDefault(t => t.Dimensions.Length >= 2 && t.Dimensions[0] % 32 != 0) is { } odd)
            throw new CreateException($"cannot quantize to {name}: tensor {odd.Name} has {odd.Dimensions[0]} columns, not a multiple of 32");

        progress($"quantizing {from} model to {name.ToUpperInvariant()}");
        var temporary = Path.Combine(Path.GetTempPath(), $"quantize-{Guid.NewGuid():N}.gguf");
        try
        {
            bool ok = await Task.Run(() => LLama.LLamaQuantizer.Quantize(source, temporary, ftype, nthread: -1), ct);
            if (!ok) throw new CreateException($"llama.cpp could not quantize the model to {name}");
            var quantized = ReadGguf(temporary);
            var layer = await store.ImportFileAsync(temporary, MediaTypes.Model, ct);
            progress($"creating new layer {layer.Digest}");
            return (layer, quantized);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The params layer held to the model's limits (its training context), before any progress is reported.</summary>
    private static GgufFile CheckParameters(CreateSpec spec, GgufFile gguf) =>
        spec.Parameters?.Validate(OptionLimits.ForModelFile(gguf)) is { } invalid
            ? throw new CreateException("parameters: " + invalid.Message)
            : gguf;

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
