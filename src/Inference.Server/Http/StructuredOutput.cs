using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Checking;

namespace Inference.Server.Http;

/// <summary>Turns Ollama's `format` and OpenAI's `response_format` into a GBNF grammar for the sampler.</summary>
public static class StructuredOutput
{
    /// <summary>Ollama: "json" for any JSON object, a JSON Schema object, or nothing.</summary>
    public static bool TryFromOllamaFormat(JsonElement? format, out string? grammar, out string? error)
    {
        grammar = error = null;
        switch (format)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                return true;
            case { ValueKind: JsonValueKind.String } s when s.GetString() is "" or null:
                return true;
            case { ValueKind: JsonValueKind.String } s when s.GetString() == "json":
                grammar = AnyJsonObject.Gbnf;
                return true;
            case { ValueKind: JsonValueKind.Object } schema:
                return TryFromSchema(schema, out grammar, out error);
            default:
                error = "format must be \"json\" or a JSON Schema object";
                return false;
        }
    }

    /// <summary>OpenAI: {"type":"text"}, {"type":"json_object"} or {"type":"json_schema","json_schema":{"schema":{...}}}.</summary>
    public static bool TryFromResponseFormat(JsonElement? format, out string? grammar, out string? error)
    {
        grammar = error = null;
        if (format is not { ValueKind: JsonValueKind.Object } f) return format is null or { ValueKind: JsonValueKind.Null };
        var type = f.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "text":
                return true;
            case "json_object":
                grammar = AnyJsonObject.Gbnf;
                return true;
            case "json_schema" when f.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
                                    && js.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object:
                return TryFromSchema(schema, out grammar, out error);
            default:
                error = "response_format must be {\"type\":\"text\"}, {\"type\":\"json_object\"} or {\"type\":\"json_schema\",\"json_schema\":{\"schema\":{...}}}";
                return false;
        }
    }

    /// <summary>OpenAI Responses' text.format: {"type":"text"}, {"type":"json_object"} or {"type":"json_schema","name","schema":{...},"strict"}.</summary>
    public static bool TryFromTextFormat(JsonElement? format, out string? grammar, out string? error)
    {
        grammar = error = null;
        if (format is not { ValueKind: JsonValueKind.Object } f) return format is null or { ValueKind: JsonValueKind.Null };
        switch (f.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null)
        {
            case "text":
                return true;
            case "json_object":
                grammar = AnyJsonObject.Gbnf;
                return true;
            case "json_schema" when f.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object:
                return TryFromSchema(schema, out grammar, out error);
            default:
                error = "text.format must be {\"type\":\"text\"}, {\"type\":\"json_object\"} or {\"type\":\"json_schema\",\"name\":\"...\",\"schema\":{...}}";
                return false;
        }
    }

    private static bool TryFromSchema(JsonElement schema, out string? grammar, out string? error)
    {
        grammar = error = null;
        try
        {
            grammar = JsonGrammar.FromSchema(schema);
            return true;
        }
        catch (SchemaNotSupportedException ex)
        {
            error = "unsupported JSON schema: " + ex.Message;
            return false;
        }
        catch (GrammarRejectedException ex)
        {
            // The converter wrote a grammar the checker refuses for a reason the schema cannot cause: a bug here,
            // not the client's. The server's error handler logs it and answers 500 with this message.
            throw new BadHttpRequestException("internal error: the grammar built for this schema was refused: " + ex.Verdict.Message,
                StatusCodes.Status500InternalServerError, ex);
        }
    }
}
