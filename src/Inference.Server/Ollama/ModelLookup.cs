using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Engine.Store;

namespace Inference.Server.Ollama;

/// <summary>Turns a request's model name into an installed model, or the error Ollama would return.</summary>
public static class ModelLookup
{
    public static bool TryResolve(string? model, ModelCatalog catalog, out ModelDefinition definition, out IResult error)
    {
        definition = null!;
        if (string.IsNullOrWhiteSpace(model))
        {
            error = OllamaErrors.BadRequest("model is required");
            return false;
        }
        if (!ModelName.TryParse(model, out var name, out var parseError))
        {
            error = OllamaErrors.BadRequest(parseError);
            return false;
        }
        try
        {
            var found = catalog.Find(name);
            if (found is null)
            {
                error = OllamaErrors.ModelNotFound(model);
                return false;
            }
            definition = found;
            error = Results.Empty;
            return true;
        }
        catch (InvalidManifestException ex)
        {
            // A manifest on disk that is corrupt or incomplete: the request names a model that cannot exist as stored.
            error = OllamaErrors.BadRequest($"model '{Echo.Bounded(model)}' cannot be used: {ex.Message}; delete it and pull or create it again");
            return false;
        }
        catch (InvalidGgufException ex)
        {
            error = OllamaErrors.Error(StatusCodes.Status500InternalServerError, $"model '{Echo.Bounded(model)}' cannot be used: {ex.Message}");
            return false;
        }
    }
}
