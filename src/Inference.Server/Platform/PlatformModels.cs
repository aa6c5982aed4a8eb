using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Engine.Store;
using Inference.Server.Http;
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
    /// <summary>The model to use; throws <see cref="ModelLookupException"/> (the /ai group's filter answers it).</summary>
    public ModelDefinition Choose(string? requested, PlatformTask task)
    {
        if (!string.IsNullOrWhiteSpace(requested)) return ModelLookup.Resolve(requested, catalog);
        return Default(task) ?? throw new ModelLookupException(ModelProblem.NoneInstalled, "", "no model is installed: pull or create one first");
    }

    /// <summary>The model a request for this task that names none gets; null when no usable model is installed.</summary>
    public ModelDefinition? Default(PlatformTask task)
    {
        var preferred = task switch
        {
            PlatformTask.Sql => options.Value.SqlModel,
            PlatformTask.Code => options.Value.CodeModel,
            _ => options.Value.DefaultModel,
        };
        if (!string.IsNullOrWhiteSpace(preferred) && ModelName.TryParse(preferred, out var name, out _) && TryFind(name) is { } found) return found;

        var installed = catalog.Store.List()
            .OrderBy(m => m.Name.DisplayShortest(), StringComparer.Ordinal)
            .Select(m => TryFind(m.Name))
            .OfType<ModelDefinition>()
            .ToList();
        return task == PlatformTask.Code ? installed.FirstOrDefault(m => m.Gguf.HasFillInTheMiddleTokens) ?? installed.FirstOrDefault() : installed.FirstOrDefault();
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
