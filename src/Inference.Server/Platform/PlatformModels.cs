using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Engine.Store;
using Inference.Server.Ollama;
using Microsoft.Extensions.Options;

namespace Inference.Server.Platform;

/// <summary>The kinds of work the /ai/* routes do; each has a preferred model in the catalog.</summary>
public enum PlatformTask { Generation, Sql, Code }

/// <summary>
/// Picks the model for an /ai/* request: the one it names, else the catalog's model for its task
/// when installed (SQL → llama3.2:1b, code → codellama:7b, generation → Platform:DefaultModel),
/// else an installed one (for code, one with fill-in-the-middle tokens first). Responses name the model used.
/// </summary>
public sealed class PlatformModels(ModelCatalog catalog, IOptions<PlatformOptions> options)
{
    public bool TryChoose(string? requested, PlatformTask task, out ModelDefinition model, out IResult error)
    {
        if (!string.IsNullOrWhiteSpace(requested)) return ModelLookup.TryResolve(requested, catalog, out model, out error);

        var preferred = task switch
        {
            PlatformTask.Sql => options.Value.SqlModel,
            PlatformTask.Code => options.Value.CodeModel,
            _ => options.Value.DefaultModel,
        };
        if (!string.IsNullOrWhiteSpace(preferred) && ModelName.TryParse(preferred, out var name, out _) && TryFind(name) is { } found)
        {
            model = found;
            error = Results.Empty;
            return true;
        }

        var installed = catalog.Store.List()
            .OrderBy(m => m.Name.DisplayShortest(), StringComparer.Ordinal)
            .Select(m => TryFind(m.Name))
            .OfType<ModelDefinition>()
            .ToList();
        var fallback = task == PlatformTask.Code ? installed.FirstOrDefault(m => m.Gguf.HasFillInTheMiddleTokens) ?? installed.FirstOrDefault() : installed.FirstOrDefault();
        if (fallback is null)
        {
            model = null!;
            error = PlatformErrors.Error(StatusCodes.Status503ServiceUnavailable, "no model is installed: pull or create one first");
            return false;
        }
        model = fallback;
        error = Results.Empty;
        return true;
    }

    private ModelDefinition? TryFind(ModelName name)
    {
        try
        {
            return catalog.Find(name);
        }
        catch (Exception e) when (e is InvalidGgufException or InvalidManifestException)
        {
            return null; // a broken model is never picked implicitly
        }
    }
}
