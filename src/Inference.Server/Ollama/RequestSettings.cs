using System.Text.Json;
using Inference.Engine.Backend;
using Inference.Engine.Models;

namespace Inference.Server.Ollama;

/// <summary>Options and keep_alive as every Ollama route that runs a model reads them.</summary>
public static class RequestSettings
{
    /// <summary>The request's options and keep_alive, validated (shared by generate, chat and embeddings).</summary>
    public static bool TryRead(ModelOptions? requested, JsonElement? keepAliveValue, EngineOptions engine,
        out ModelOptions options, out TimeSpan keepAlive, out IResult error)
    {
        options = requested ?? new ModelOptions();
        error = Results.Empty;
        keepAlive = default;
        if (options.Validate() is { } invalid)
        {
            error = OllamaErrors.BadRequest(invalid.Message);
            return false;
        }
        if (!KeepAlive.TryParse(keepAliveValue, engine.KeepAlive, out keepAlive, out var keepAliveError))
        {
            error = OllamaErrors.BadRequest(keepAliveError!);
            return false;
        }
        return true;
    }
}
