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
    /// <summary>LoRA adapter GGUF blobs (uploaded with POST /api/blobs) to add as adapter layers, by digest.</summary>
    public IReadOnlyList<string>? Adapters { get; init; }
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
    /// <summary>
    /// Creates the model. Failures before the first progress report change nothing; a later failure
    /// removes the blobs this create added. A full disk is <see cref="InsufficientStorageException"/>.
    /// </summary>
    public async Task CreateAsync(CreateSpec spec, Action<string> progress, CancellationToken ct)
    {
        if (spec.Template is { } template)
        {
            try { GoTemplate.Parse(template); }
            catch (TemplateParseException ex) { throw new CreateException("invalid template: " + Echo.Bounded(ex.Message, Echo.MaxMessageLength)); }
        }

        using var pending = store.BeginPending();
        try
        {
            await CreateAsync(spec, pending, progress, ct);
        }
        catch
        {
            pending.Discard();
            throw;
        }
        progress("success");
    }

    private async Task CreateAsync(CreateSpec spec, PendingBlobs pending, Action<string> progress, CancellationToken ct)
    {
        var layers = new List<ManifestLayer>();
        ManifestLayer modelLayer;
        GgufFile gguf;
        List<ManifestLayer> adapters;
        if (spec.FromModel is { } from)
        {
            ModelManifest baseModel;
            try
            {
                baseModel = store.GetManifest(from) ?? throw new CreateException($"model '{Echo.Bounded(from.DisplayShortest())}' not found", notFound: true);
                foreach (var layer in baseModel.AllBlobs) pending.Hold(layer.Digest);
                store.CheckComplete(baseModel); // its layers are carried over: refuse to spread a broken one
            }
            catch (InvalidManifestException ex)
            {
                throw new CreateException($"model '{Echo.Bounded(from.DisplayShortest())}' cannot be used: {ex.Message}");
            }
            modelLayer = baseModel.Find(MediaTypes.Model)!;
            gguf = CheckParameters(spec, ReadGguf(store.BlobPath(modelLayer.Digest)));
            // Its adapters are carried over, as in Ollama; new ones are added after them.
            layers.AddRange(baseModel.Layers.Where(l => l.MediaType != MediaTypes.Model));
            adapters = CheckAdapters(spec, gguf, layers, pending);
            progress($"using existing layer {modelLayer.Digest}");
        }
        else if (spec.FromBlob is { } digest)
        {
            pending.Hold(digest);
            if (!store.BlobExists(digest)) throw new CreateException($"blob {digest} not found: upload it first with POST /api/blobs/{digest}");
            gguf = CheckParameters(spec, ReadGguf(store.BlobPath(digest)));
            adapters = CheckAdapters(spec, gguf, layers, pending);
            modelLayer = new ManifestLayer(MediaTypes.Model, digest, new FileInfo(store.BlobPath(digest)).Length);
            progress($"using existing layer {digest}");
        }
        else if (spec.FromFile is { } file)
        {
            // Without the path: an API client must not learn server paths (the route checked it exists a moment ago).
            if (!File.Exists(file)) throw new CreateException("the model file was not found");
            gguf = CheckParameters(spec, ReadGguf(file));
            adapters = CheckAdapters(spec, gguf, layers, pending);
            // Refused before the first progress line, so a streamed create still gets a 507 status.
            store.EnsureSpaceFor(new FileInfo(file).Length, "the model file");
            progress("parsing GGUF");
            modelLayer = await store.ImportFileAsync(file, MediaTypes.Model, ct, pending);
            progress($"creating new layer {modelLayer.Digest}");
        }
        else
        {
            throw new CreateException("neither 'from' nor 'files' names a model to create from");
        }

        if (spec.Quantize is { Length: > 0 } quantize)
            (modelLayer, gguf) = await QuantizeAsync(store.BlobPath(modelLayer.Digest), gguf, quantize, pending, progress, ct);

        layers.Insert(0, modelLayer);
        foreach (var adapter in adapters)
        {
            progress($"using existing layer {adapter.Digest}");
            layers.Add(adapter);
        }
        await Replace(layers, MediaTypes.Template, spec.Template, pending, progress, ct);
        await Replace(layers, MediaTypes.System, spec.System, pending, progress, ct);
        await Replace(layers, MediaTypes.License, spec.License, pending, progress, ct);
        if (spec.Messages is { Count: > 0 } messages)
            await Replace(layers, MediaTypes.Messages, JsonSerializer.Serialize(messages.ToArray(), EngineJsonContext.Default.ChatMessageArray), pending, progress, ct);
        if (spec.Parameters is { } parameters)
            await Replace(layers, MediaTypes.Params, JsonSerializer.Serialize(parameters, EngineJsonContext.Default.ModelOptions), pending, progress, ct);

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
        }, ct, pending);

        progress("writing manifest");
        await store.WriteManifestAsync(spec.Name, new ModelManifest { Config = config, Layers = layers }, ct);
    }

    /// <summary>The quantization types offered, by Ollama's names.</summary>
    public static readonly IReadOnlyList<string> QuantizationTypes =
        ["q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_K", "q3_K_S", "q3_K_M", "q3_K_L", "q4_K_S", "q4_K_M", "q5_K_S", "q5_K_M", "q6_K"];

    /// <summary>Quantizes with llama.cpp (LLamaSharp's quantizer) into a temporary file, then stores it as the model blob.</summary>
    private async Task<(ManifestLayer Layer, GgufFile Gguf)> QuantizeAsync(string source, GgufFile gguf, string target,
        PendingBlobs pending, Action<string> progress, CancellationToken ct)
    {
        var name = QuantizationTypes.FirstOrDefault(q => q.Equals(target, StringComparison.OrdinalIgnoreCase))
            ?? throw new CreateException($"unsupported quantization type '{Echo.Bounded(target)}': use one of {string.Join(", ", QuantizationTypes)}");
        var from = GgufNames.QuantizationLevel(gguf);
        if (from is not ("F32" or "F16" or "BF16"))
            throw new CreateException($"quantization is only supported for F16 and F32 models (this one is {from})");
        if (!Enum.TryParse<LLama.Native.LLamaFtype>("MOSTLY_" + name.ToUpperInvariant(), ignoreCase: true, out var ftype))
            throw new CreateException($"unsupported quantization type '{target}'");
        // Every quantized type (and llama.cpp's fallbacks for K-quants) packs rows in blocks of at
        // least 32 values; say which tensor is in the way rather than a bare llama.cpp failure.
        if (gguf.Tensors.FirstOrDefault(t => t.Dimensions.Length >= 2 && t.Dimensions[0] % 32 != 0) is { } odd)
            throw new CreateException($"cannot quantize to {name}: tensor {Echo.Bounded(odd.Name)} has {odd.Dimensions[0]} columns, not a multiple of 32");

        progress($"quantizing {from} model to {name.ToUpperInvariant()}");
        // In blobs/, on the store's disk, named as a temporary that start-up pruning removes after a crash.
        Directory.CreateDirectory(store.BlobsDirectory);
        var temporary = store.TemporaryBlobPath();
        try
        {
            bool ok = await Task.Run(() => LLama.LLamaQuantizer.Quantize(source, temporary, ftype, nthread: -1), ct);
            GgufFile quantized;
            try
            {
                if (!ok) throw new CreateException($"llama.cpp could not quantize the model to {name}");
                quantized = ReadGguf(temporary);
            }
            catch (CreateException) when (store.AvailableSpace() is { } free && free < QuantizeHeadroomBytes)
            {
                // llama.cpp reports only failure (or leaves a truncated file); a disk it filled up is the cause we can tell apart.
                throw new InsufficientStorageException($"not enough disk space in the models directory to quantize the model to {name}");
            }
            var layer = await store.AdoptFileAsync(temporary, MediaTypes.Model, null, pending, ct);
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

    /// <summary>
    /// The requested adapter blobs as adapter layers, each checked against the base model (see
    /// <see cref="LoraAdapterCheck"/>) before any progress is reported, so a bad adapter is a 400 and nothing is
    /// written. An adapter the base model already has is not added twice.
    /// </summary>
    private List<ManifestLayer> CheckAdapters(CreateSpec spec, GgufFile baseModel, List<ManifestLayer> carried, PendingBlobs pending)
    {
        var added = new List<ManifestLayer>();
        foreach (var digest in spec.Adapters ?? [])
        {
            pending.Hold(digest);
            if (!store.BlobExists(digest)) throw new CreateException($"adapter blob {digest} not found: upload it first with POST /api/blobs/{digest}");
            if (carried.Concat(added).Any(l => l.MediaType == MediaTypes.Adapter && l.Digest == digest)) continue;
            var path = store.BlobPath(digest);
            GgufFile adapter;
            try
            {
                adapter = GgufFile.Read(path);
            }
            catch (InvalidGgufException ex)
            {
                throw new CreateException($"invalid adapter file: {ex.Message}");
            }
            if (LoraAdapterCheck.Problem(adapter, baseModel) is { } problem) throw new CreateException("invalid adapter: " + problem);
            added.Add(new ManifestLayer(MediaTypes.Adapter, digest, new FileInfo(path).Length));
        }
        int total = carried.Count(l => l.MediaType == MediaTypes.Adapter) + added.Count;
        if (total > LoraAdapterCheck.MaxAdapters)
            throw new CreateException($"the model would have {total} adapters; at most {LoraAdapterCheck.MaxAdapters} are supported");
        return added;
    }

    private static GgufFile ReadGguf(string path)
    {
        GgufFile gguf;
        try
        {
            gguf = GgufFile.Read(path);
        }
        catch (InvalidGgufException ex)
        {
            throw new CreateException($"invalid model file: {ex.Message}");
        }
        // llama.cpp cannot load an adapter as a model; say what to do with it instead of failing at the first request.
        if (gguf.GetString("general.type") == "adapter")
            throw new CreateException("the file is a LoRA adapter, not a model: create a model from its base model with the adapter's blob in 'adapters'");
        return gguf;
    }

    /// <summary>Free space below which a failed quantization is taken to have filled the disk.</summary>
    private const long QuantizeHeadroomBytes = 16 << 20;

    private async Task Replace(List<ManifestLayer> layers, string mediaType, string? text, PendingBlobs pending, Action<string> progress, CancellationToken ct)
    {
        if (text is null) return;
        layers.RemoveAll(l => l.MediaType == mediaType);
        if (text.Length == 0) return;
        var layer = await store.WriteTextBlobAsync(text, mediaType, ct, pending);
        progress($"creating new layer {layer.Digest}");
        layers.Add(layer);
    }
}
