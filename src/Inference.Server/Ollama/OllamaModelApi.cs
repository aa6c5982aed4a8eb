using System.Text;
using System.Text.Json;
using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Store;
using Inference.Engine.Backend;
using Inference.Server.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Inference.Server.Ollama;

/// <summary>Model management routes: list, show, running models, create, copy, delete, blobs, version.</summary>
public static class OllamaModelApi
{
    /// <summary>The Ollama API version this server implements (clients gate features on it).</summary>
    public const string CompatibleVersion = "0.12.0";

    public static IEndpointRouteBuilder MapOllamaModelApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Text("Ollama is running")).WithTags("Ollama").Produces<string>(200, "text/plain");
        app.MapMethods("/", ["HEAD"], () => Results.Text("Ollama is running")).WithTags("Ollama").Produces<string>(200, "text/plain");

        var api = app.MapGroup("/api").WithTags("Ollama").WithEngineErrors(OllamaErrors.Shape);
        api.MapGet("/version", () => TypedResults.Json(new VersionResponse(CompatibleVersion), OllamaJsonContext.Wire.VersionResponse));
        api.MapGet("/tags", Tags).Produces<TagsResponse>().WithSummary("List installed models");
        api.MapPost("/show", ShowAsync).DocumentsJsonBody<ShowRequest>().Produces<ShowResponse>().WithSummary("Show a model");
        api.MapGet("/ps", Ps).Produces<PsResponse>().WithSummary("List loaded models");
        api.MapPost("/create", CreateAsync).DocumentsJsonBody<CreateRequest>().Produces<StatusResponse>().WithSummary("Create a model");
        api.MapDelete("/delete", DeleteAsync).DocumentsJsonBody<DeleteRequest>().WithSummary("Delete a model");
        api.MapPost("/copy", CopyAsync).DocumentsJsonBody<CopyRequest>().WithSummary("Copy a model");
        api.MapMethods("/blobs/{digest}", ["HEAD"], BlobExists).WithSummary("Check that a blob exists");
        api.MapPost("/blobs/{digest}", PushBlobAsync).WithSummary("Upload a blob (digest verified)");
        return app;
    }

    private static IResult Tags(ModelCatalog catalog)
    {
        var models = new List<ListedModel>();
        foreach (var stored in catalog.Store.List())
        {
            var details = DetailsOf(catalog.Store, stored.Manifest);
            models.Add(new ListedModel
            {
                Name = stored.Name.DisplayShortest(),
                Model = stored.Name.DisplayShortest(),
                ModifiedAt = stored.ModifiedAt,
                Size = stored.Size,
                Digest = stored.Digest,
                Details = details,
            });
        }
        return TypedResults.Json(new TagsResponse(models.OrderByDescending(m => m.ModifiedAt).ToList()), OllamaJsonContext.Wire.TagsResponse);
    }

    private static IResult Ps(ModelManager manager)
    {
        var running = manager.Loaded.Select(m => new RunningModel
        {
            Name = m.Definition.DisplayName,
            Model = m.Definition.DisplayName,
            Size = m.SizeBytes,
            SizeVram = m.SizeVram,
            Digest = m.Definition.Stored.Digest,
            Details = DetailsOf(m.Definition.Gguf),
            ExpiresAt = m.ExpiresAtUtc == DateTimeOffset.MaxValue ? new DateTimeOffset(2318, 1, 1, 0, 0, 0, TimeSpan.Zero) : m.ExpiresAtUtc,
            ContextLength = m.Settings.ContextLength,
        }).OrderByDescending(m => m.ExpiresAt).ToList(); // longest time left first, as Ollama lists them
        return TypedResults.Json(new PsResponse(running), OllamaJsonContext.Wire.PsResponse);
    }

    private static async Task<IResult> ShowAsync(HttpContext http, ModelCatalog catalog)
    {
        var (req, error) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.ShowRequest, http.RequestAborted);
        if (req is null) return OllamaErrors.BadRequest(error!);
        var name = req.Model ?? req.Name;
        var model = ModelLookup.Resolve(name, catalog);

        var (source, template) = PromptBuilder.Describe(model);
        // Like Ollama, the large tokenizer arrays are only sent when verbose is asked for: the prepared model
        // keeps a header without them, so verbose reads them from the blob now.
        GgufFile gguf;
        try
        {
            gguf = req.Verbose == true ? catalog.ReadFullHeader(model) : model.Gguf;
        }
        catch (Exception ex) when (ex is IOException or InvalidGgufException)
        {
            return OllamaErrors.Error(StatusCodes.Status500InternalServerError, $"model '{Echo.Bounded(name)}' cannot be read: {ex.Message}");
        }
        var info = new Dictionary<string, object?>();
        foreach (var (key, value) in gguf.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            info[key] = value is GgufArraySummary ? null : value;
        info["general.parameter_count"] = gguf.ParameterCount;
        // As Ollama: the name is the model's own, and the chat template is in "template".
        info.Remove("general.name");
        info.Remove("tokenizer.chat_template");

        var parameters = FormatParameters(model.Parameters);
        var capabilities = model.Prepared.Capabilities;

        return TypedResults.Json(new ShowResponse
        {
            License = model.License,
            Modelfile = Modelfile(model, template, parameters),
            Parameters = parameters.Length > 0 ? parameters : null,
            Template = template,
            System = model.System,
            Details = DetailsOf(gguf),
            ModelInfo = info,
            Capabilities = [.. capabilities],
            ModifiedAt = model.Stored.ModifiedAt,
            Messages = model.Messages.Count == 0 ? null : model.Messages.Select(m => new ChatMessageDto { Role = m.Role, Content = m.Content }).ToList(),
            Tensors = gguf.Tensors.Select(t => new TensorDto(t.Name, t.TypeName, t.Dimensions)).ToList(),
        }, OllamaJsonContext.Wire.ShowResponse);
    }

    private static string FormatParameters(ModelOptions options)
    {
        var json = JsonSerializer.SerializeToElement(options, Inference.Engine.EngineJson.ModelOptions);
        var lines = new StringBuilder();
        foreach (var p in json.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Array)
                foreach (var item in p.Value.EnumerateArray()) lines.AppendLine($"{p.Name,-30} {item.GetRawText()}");
            else
                lines.AppendLine($"{p.Name,-30} {p.Value.GetRawText()}");
        }
        return lines.ToString().TrimEnd('\n');
    }

    private static string Modelfile(ModelDefinition model, string template, string parameters)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Modelfile generated by \"ollama show\"");
        sb.AppendLine("# To build a new Modelfile based on this, replace FROM with:");
        sb.AppendLine($"# FROM {model.DisplayName}");
        sb.AppendLine();
        sb.AppendLine($"FROM {model.ModelPath}");
        foreach (var adapter in model.Adapters) sb.AppendLine($"ADAPTER {adapter.Path}");
        sb.AppendLine($"TEMPLATE \"\"\"{template}\"\"\"");
        if (!string.IsNullOrEmpty(model.System)) sb.AppendLine($"SYSTEM \"\"\"{model.System}\"\"\"");
        foreach (var line in parameters.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            sb.AppendLine("PARAMETER " + string.Join(' ', line.Split(' ', 2).Select(s => s.Trim())));
        if (!string.IsNullOrEmpty(model.License)) sb.AppendLine($"LICENSE \"\"\"{model.License}\"\"\"");
        return sb.ToString();
    }

    private static ModelDetails DetailsOf(ModelStore store, ModelManifest manifest)
    {
        ModelConfig? config;
        try
        {
            config = store.ReadConfig(manifest);
        }
        catch (InvalidManifestException)
        {
            config = null; // listed with what is known; using it says what is wrong
        }
        return new ModelDetails
        {
            Format = config?.ModelFormat ?? "gguf",
            Family = config?.ModelFamily ?? "",
            Families = config?.ModelFamilies is { } families ? [.. families] : config?.ModelFamily is { } f ? [f] : [],
            ParameterSize = config?.ModelType ?? "",
            QuantizationLevel = config?.FileType ?? "",
        };
    }

    private static ModelDetails DetailsOf(GgufFile gguf) => new()
    {
        Family = gguf.Architecture,
        Families = [gguf.Architecture],
        ParameterSize = GgufNames.FormatParameterSize(gguf.ParameterCount),
        QuantizationLevel = GgufNames.QuantizationLevel(gguf),
    };

    private static async Task<IResult> CreateAsync(HttpContext http, ModelImporter importer, IOptions<EngineOptions> engine)
    {
        var ct = http.RequestAborted;
        var (req, error) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.CreateRequest, ct);
        if (req is null) return OllamaErrors.BadRequest(error!);
        if (string.IsNullOrWhiteSpace(req.Model)) return OllamaErrors.BadRequest("model is required");
        if (!ModelName.TryParse(req.Model, out var name, out var nameError)) return OllamaErrors.BadRequest(nameError);
        var (adapters, adapterError) = CreateAdapters.Parse(req.Adapters);
        if (adapterError is not null) return OllamaErrors.BadRequest(adapterError);

        var spec = new CreateSpec { Name = name, Template = req.Template, System = req.System, Quantize = req.Quantize, Adapters = adapters };
        if (req.Files is { Count: > 0 } files)
        {
            var ggufs = files.Where(f => f.Key.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).ToList();
            if (ggufs.Count != 1) return OllamaErrors.BadRequest("files must name exactly one .gguf file");
            if (!Digests.TryGetHex(ggufs[0].Value, out _)) return InvalidDigest(ggufs[0].Value);
            spec = spec with { FromBlob = ggufs[0].Value };
        }
        else if (!string.IsNullOrWhiteSpace(req.From))
        {
            // A path (absolute, or starting with . or ~, or naming a .gguf) is a GGUF on this machine,
            // allowed only inside the operator's import directories; anything else is a model name.
            var from = req.From.StartsWith('~') ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), req.From[1..].TrimStart('/')) : req.From;
            if (Path.IsPathRooted(from) || from.StartsWith('.') || from.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            {
                // One answer for missing, outside and not-a-regular-file: it must not tell whether a path exists.
                if (ImportDirectories.Resolve(from, engine.Value.ImportDirectories) is not { } file)
                    return OllamaErrors.BadRequest("'from' must name an installed model, or a regular file in a directory listed in Inference:ImportDirectories; "
                        + "to create from a file on the client, upload it with POST /api/blobs/<digest> and name the digest in 'files'");
                spec = spec with { FromFile = file };
            }
            else if (ModelName.TryParse(from, out var fromName, out var fromError))
                spec = spec with { FromModel = fromName };
            else
                return OllamaErrors.BadRequest($"invalid 'from': {fromError}");
        }
        else
        {
            return OllamaErrors.BadRequest("neither 'from' nor 'files' was specified");
        }

        if (req.Parameters is { ValueKind: JsonValueKind.Object } p)
        {
            try
            {
                var options = p.Deserialize(Inference.Engine.EngineJson.ModelOptions);
                if (options?.Validate() is { } invalid) return OllamaErrors.BadRequest("parameters: " + invalid.Message);
                spec = spec with { Parameters = options };
            }
            catch (JsonException ex)
            {
                return OllamaErrors.BadRequest("parameters: " + JsonBody.Describe(ex));
            }
        }
        if (req.Messages is { ValueKind: JsonValueKind.Array } messageArray)
        {
            var messages = new List<ChatMessage>();
            foreach (var m in messageArray.EnumerateArray())
            {
                var role = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("role", out var r) ? r.GetString() : null;
                if (role is null || !ChatMessage.KnownRoles.Contains(role)) return OllamaErrors.BadRequest($"messages[{messages.Count}].role must be system, user, assistant or tool");
                messages.Add(new ChatMessage(role, m.TryGetProperty("content", out var c) ? c.GetString() ?? "" : ""));
            }
            spec = spec with { Messages = messages };
        }
        if (req.License is { } license)
        {
            spec = spec with
            {
                License = license.ValueKind switch
                {
                    JsonValueKind.String => license.GetString(),
                    JsonValueKind.Array => string.Join("\n", license.EnumerateArray().Select(l => l.GetString())),
                    _ => null,
                },
            };
        }

        // The importer validates before its first progress line, so a bad request still gets a proper status code instead of a 200 stream.
        return await ProgressStream.RunAsync<string>(http, req.Stream != false, eventsBeforeStream: 1,
            (report, token) => importer.CreateAsync(spec, report, token),
            (status, token) => Ndjson.WriteAsync(http.Response, new StatusResponse(status), OllamaJsonContext.Wire.StatusResponse, token),
            () => TypedResults.Json(new StatusResponse("success"), OllamaJsonContext.Wire.StatusResponse));
    }

    private static IResult InvalidDigest(string digest) => OllamaErrors.BadRequest($"invalid digest '{Echo.Bounded(digest)}'");

    private static async Task<IResult> DeleteAsync(HttpContext http, ModelCatalog catalog, ModelManager manager)
    {
        var (req, error) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.DeleteRequest, http.RequestAborted);
        if (req is null) return OllamaErrors.BadRequest(error!);
        var text = req.Model ?? req.Name;
        if (string.IsNullOrWhiteSpace(text)) return OllamaErrors.BadRequest("model is required");
        if (!ModelName.TryParse(text, out var name, out var nameError)) return OllamaErrors.BadRequest(nameError);
        await manager.UnloadAsync(name.ToString());
        return catalog.Store.Delete(name) ? Results.Ok() : OllamaErrors.ModelNotFound(text);
    }

    private static async Task<IResult> CopyAsync(HttpContext http, ModelCatalog catalog)
    {
        var (req, error) = await JsonBody.ReadAsync(http.Request, OllamaJsonContext.Wire.CopyRequest, http.RequestAborted);
        if (req is null) return OllamaErrors.BadRequest(error!);
        if (string.IsNullOrWhiteSpace(req.Source)) return OllamaErrors.BadRequest("source is required");
        if (string.IsNullOrWhiteSpace(req.Destination)) return OllamaErrors.BadRequest("destination is required");
        if (!ModelName.TryParse(req.Source, out var source, out var e1)) return OllamaErrors.BadRequest("source: " + e1);
        if (!ModelName.TryParse(req.Destination, out var destination, out var e2)) return OllamaErrors.BadRequest("destination: " + e2);
        return ModelLookup.Read(req.Source, "copied", () => catalog.Store.Copy(source, destination)) ? Results.Ok() : OllamaErrors.ModelNotFound(req.Source);
    }

    private static IResult BlobExists(string digest, ModelCatalog catalog) =>
        Digests.TryGetHex(digest, out _)
            ? catalog.Store.BlobExists(digest) ? Results.Ok() : Results.NotFound()
            : InvalidDigest(digest);

    /// <summary>
    /// Streams the body to <c>blobs/</c> while hashing it: no size limit (a GGUF is many GB), the
    /// digest is verified, and a mismatch, a cut-off upload or a full disk leaves nothing behind.
    /// </summary>
    private static async Task<IResult> PushBlobAsync(string digest, HttpContext http, ModelCatalog catalog)
    {
        if (!Digests.TryGetHex(digest, out _)) return InvalidDigest(digest);
        // This route alone may take a body of any size; every other route keeps the server's bound.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        if (catalog.Store.BlobExists(digest)) return Results.Created();
        // A digest mismatch (400) and a full disk (507) are answered by the group's error filter.
        if (http.Request.ContentLength is { } length) catalog.Store.EnsureSpaceFor(length, "the blob");
        await catalog.Store.ImportBlobAsync(http.Request.Body, MediaTypes.Model, digest, http.RequestAborted);
        return Results.Created();
    }
}
