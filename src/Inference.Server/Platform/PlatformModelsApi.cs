using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Engine.Store;
using Microsoft.Extensions.Options;

namespace Inference.Server.Platform;

/// <summary>GET /ai/models: installed models, whether each is loaded, and which task each is the default for.</summary>
public static class PlatformModelsApi
{
    public static RouteGroupBuilder MapPlatformModelsApi(this RouteGroupBuilder ai)
    {
        ai.MapGet("/models", List).Produces<AiModelsResponse>().WithSummary("List installed models");
        return ai;
    }

    private static IResult List(ModelCatalog catalog, ModelManager manager, PlatformModels chooser, IOptions<PlatformOptions> options)
    {
        var loaded = manager.Loaded.Select(m => m.Definition.Key).ToHashSet();
        var defaults = new Dictionary<string, List<string>>();
        foreach (var (task, label) in new[] { (PlatformTask.Sql, "sql"), (PlatformTask.Code, "code"), (PlatformTask.Generation, "generation") })
            if (chooser.Default(task) is { } chosen)
                (defaults.TryGetValue(chosen.Key, out var list) ? list : defaults[chosen.Key] = []).Add(label);

        var models = new List<AiModel>();
        foreach (var stored in catalog.Store.List().OrderBy(m => m.Name.DisplayShortest(), StringComparer.Ordinal))
        {
            GgufFile? gguf = null;
            try
            {
                gguf = catalog.Find(stored.Name)?.Gguf;
            }
            catch (Exception e) when (e is InvalidGgufException or InvalidManifestException)
            {
                // Listed with what its manifest says; it cannot be loaded.
            }
            var key = stored.Name.ToString();
            models.Add(new AiModel
            {
                Name = stored.Name.DisplayShortest(),
                Size = stored.Size,
                ModifiedAt = stored.ModifiedAt,
                Family = gguf?.Architecture ?? "",
                ParameterSize = gguf is null ? "" : GgufNames.FormatParameterSize(gguf.ParameterCount),
                QuantizationLevel = gguf is null ? "" : GgufNames.QuantizationLevel(gguf),
                Loaded = loaded.Contains(key),
                DefaultFor = defaults.TryGetValue(key, out var tasks) ? tasks : [],
            });
        }
        return TypedResults.Json(new AiModelsResponse(models), PlatformJsonContext.Wire.AiModelsResponse);
    }
}
