using System.Text;
using System.Text.Json;
using Inference.Engine.Gguf;
using Inference.Engine.Prompting;
using Inference.Engine.Store;

namespace Inference.Engine.Registry;

/// <summary>
/// Checks a downloaded (or already stored) blob against the manifest layer that lists it, before
/// the manifest is written: exactly the declared size, and content the server can use: a GGUF
/// header that parses for model, adapter and projector layers; JSON of the right shape for config,
/// params and messages; a template our Go-template parser accepts; UTF-8 text for system and license.
/// </summary>
public static class LayerCheck
{
    /// <summary>Null when the file at <paramref name="path"/> is fit to be <paramref name="layer"/>, else why not.</summary>
    public static string? Problem(string path, ManifestLayer layer)
    {
        long length = new FileInfo(path).Length;
        if (length != layer.Size)
            return $"blob {layer.Digest} is {length} bytes, but the manifest declares {layer.Size}";
        if (LayerRules.IsGguf(layer.MediaType))
        {
            try
            {
                GgufFile.Read(path);
                return null;
            }
            catch (InvalidGgufException ex)
            {
                return $"blob {layer.Digest} ({layer.MediaType}) is not a valid GGUF file: {ex.Message}";
            }
        }
        if (!LayerRules.IsMetadata(layer.MediaType))
            return $"blob {layer.Digest} has unsupported media type '{Echo.Bounded(layer.MediaType)}'";

        byte[] bytes = File.ReadAllBytes(path); // bounded: the size was checked against LayerRules.MaxMetadataBytes with the manifest
        try
        {
            switch (layer.MediaType)
            {
                case MediaTypes.Config:
                    _ = JsonSerializer.Deserialize(bytes, StoreJsonContext.Ollama.ModelConfig) ?? throw new JsonException("null");
                    break;
                case MediaTypes.Params:
                    _ = JsonSerializer.Deserialize(bytes, StoreJsonContext.Ollama.DictionaryStringJsonElement) ?? throw new JsonException("null");
                    break;
                case MediaTypes.Messages:
                    _ = JsonSerializer.Deserialize(bytes, EngineJsonContext.Default.ChatMessageArray) ?? throw new JsonException("null");
                    break;
                case MediaTypes.Template:
                    GoTemplate.Parse(Strict.GetString(bytes));
                    break;
                default: // system, license
                    _ = Strict.GetString(bytes);
                    break;
            }
            return null;
        }
        catch (JsonException ex)
        {
            return $"blob {layer.Digest} ({layer.MediaType}) is not valid JSON of the expected shape (at {ex.Path ?? "$"})";
        }
        catch (DecoderFallbackException)
        {
            return $"blob {layer.Digest} ({layer.MediaType}) is not UTF-8 text";
        }
        catch (TemplateParseException ex)
        {
            return $"blob {layer.Digest} is not a valid template: {Echo.Bounded(ex.Message, Echo.MaxMessageLength)}";
        }
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
