using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Inference.Server.Http;

/// <summary>
/// Reads a JSON request body ourselves (not through minimal-API binding) so malformed JSON and
/// wrong types become the API's own error shape with the offending field named.
/// </summary>
public static class JsonBody
{
    public static async Task<(T? Value, string? Error)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        if (request.ContentLength == 0) return (null, "missing request body");
        try
        {
            var value = await JsonSerializer.DeserializeAsync(request.Body, type, ct);
            return value is null ? (null, "missing request body") : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Describe(ex));
        }
    }

    /// <summary>"field 'options.num_predict' has the wrong type" rather than a CLR type name.</summary>
    internal static string Describe(JsonException ex)
    {
        var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.") ? path[2..] : null;
        var message = ex.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        if (message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) && field is not null)
            return $"invalid request: field '{field}' has the wrong type";
        if (ex.Message.Contains("end of data", StringComparison.OrdinalIgnoreCase) && field is null && ex.BytePositionInLine == 0 && ex.LineNumber == 0)
            return "missing request body";
        return field is null ? $"invalid JSON: {message}" : $"invalid JSON at field '{field}': {message}";
    }
}
