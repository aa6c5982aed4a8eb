using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Engine.Store;

namespace Inference.Server.Http;

/// <summary>Why a request's model cannot be used.</summary>
public enum ModelProblem
{
    /// <summary>The request names no model.</summary>
    Required,
    /// <summary>The name is not a valid model name.</summary>
    InvalidName,
    NotFound,
    /// <summary>Its manifest on disk is corrupt or incomplete (the client can delete it and pull again).</summary>
    Unusable,
    /// <summary>Its GGUF file cannot be read (a broken blob: the server's side).</summary>
    Broken,
    /// <summary>The request named none and no model is installed to choose.</summary>
    NoneInstalled,
}

/// <summary>A request's model cannot be used; each route group's error filter words it in its API's way.</summary>
public sealed class ModelLookupException(ModelProblem problem, string requested, string detail, string verb = "used", Exception? inner = null)
    : Exception(detail, inner)
{
    public ModelProblem Problem { get; } = problem;
    /// <summary>The name as the request gave it (shortened by the error shapes before it is echoed).</summary>
    public string Requested { get; } = requested;
    /// <summary>What the request wanted to do with it: "used", "copied".</summary>
    public string Verb { get; } = verb;
}

/// <summary>Turns a request's model name into an installed model for every API, or throws <see cref="ModelLookupException"/>.</summary>
public static class ModelLookup
{
    public static ModelDefinition Resolve(string? model, ModelCatalog catalog)
    {
        if (string.IsNullOrWhiteSpace(model)) throw new ModelLookupException(ModelProblem.Required, "", "model is required");
        if (!ModelName.TryParse(model, out var name, out var parseError)) throw new ModelLookupException(ModelProblem.InvalidName, model, parseError);
        return Read(model, "used", () => catalog.Find(name)) ?? throw new ModelLookupException(ModelProblem.NotFound, model, "not found");
    }

    /// <summary>Runs a read of a stored model; a corrupt manifest or an unreadable GGUF becomes a <see cref="ModelLookupException"/> naming it.</summary>
    public static T Read<T>(string requested, string verb, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidManifestException ex)
        {
            throw new ModelLookupException(ModelProblem.Unusable, requested, ex.Message, verb, ex);
        }
        catch (InvalidGgufException ex)
        {
            throw new ModelLookupException(ModelProblem.Broken, requested, ex.Message, verb, ex);
        }
    }
}
