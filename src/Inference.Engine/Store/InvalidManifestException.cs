namespace Inference.Engine.Store;

/// <summary>
/// A manifest (on disk or from a registry) that the store refuses: not JSON, larger than
/// <see cref="LayerRules.MaxManifestBytes"/>, a missing or null config or layer, a negative size, a
/// digest that is not <c>sha256:&lt;64 hex&gt;</c>, or a layer whose blob is missing or out of bounds.
/// Messages name the model, never a server path, so they can be shown to clients.
/// </summary>
public sealed class InvalidManifestException(string message, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>For JSON that does not bind to a manifest: where it went wrong, without .NET's type names.</summary>
    public static InvalidManifestException FromJson(string what, System.Text.Json.JsonException e) =>
        new($"{what} is not valid manifest JSON (at {e.Path ?? "$"})", e);
}
