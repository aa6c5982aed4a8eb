using System.Text.Json;
using Inference.Engine.Store;

namespace Inference.Server.Ollama;

/// <summary>
/// The <c>adapters</c> of /api/create, as Ollama takes them: an object of file name to blob digest, like
/// <c>files</c>. As in Ollama, one adapter per create; only GGUF adapters (Ollama also converts safetensors).
/// </summary>
public static class CreateAdapters
{
    /// <summary>The adapter blob digests (none when absent or empty), or the 400 message.</summary>
    public static (IReadOnlyList<string>? Digests, string? Error) Parse(JsonElement? adapters)
    {
        if (adapters is not { } element || element.ValueKind == JsonValueKind.Null) return (null, null);
        if (element.ValueKind != JsonValueKind.Object)
            return (null, "adapters must be an object of file names to blob digests, e.g. {\"adapter.gguf\": \"sha256:...\"}");
        var entries = element.EnumerateObject().ToList();
        if (entries.Count == 0) return (null, null);
        if (entries.Count > 1) return (null, "only one adapter is currently supported");
        var (file, value) = (entries[0].Name, entries[0].Value);
        if (value.ValueKind != JsonValueKind.String || !Digests.TryGetHex(value.GetString(), out _))
            return (null, $"adapters: invalid digest for '{Echo.Bounded(file)}'");
        if (file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return (null, "only GGUF adapters are supported; convert a safetensors adapter with llama.cpp's convert_lora_to_gguf.py");
        return ([value.GetString()!], null);
    }
}
