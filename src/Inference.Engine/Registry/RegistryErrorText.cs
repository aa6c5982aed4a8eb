using System.Text;
using System.Text.Json;
using Inference.Engine.Store;

namespace Inference.Engine.Registry;

/// <summary>
/// The registry's own words for a refused request, bounded: the distribution spec's error body
/// (<c>{"errors":[{"code":"DIGEST_INVALID","message":"..."}]}</c>) as "CODE: message", or else its plain text.
/// </summary>
public static class RegistryErrorText
{
    /// <summary>Bytes of an error body read at most; the rest is never downloaded.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    private const int MaxErrors = 3;

    /// <summary>The message in <paramref name="response"/>'s body, or null when it has none (or it cannot be read).</summary>
    public static async Task<string?> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        byte[] buffer = new byte[MaxBodyBytes];
        int total = 0;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            int read;
            while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), ct)) > 0) total += read;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            // An error body cut off on the way: report the status alone.
        }
        return Describe(buffer.AsSpan(0, total));
    }

    internal static string? Describe(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                var parts = errors.EnumerateArray().Take(MaxErrors).Select(Describe).Where(p => p.Length > 0).ToList();
                if (parts.Count > 0) return Echo.Bounded(string.Join("; ", parts), Echo.MaxMessageLength);
            }
        }
        catch (JsonException)
        {
            // Not the spec's shape: fall back to the text.
        }
        var text = new StringBuilder();
        foreach (char c in Encoding.UTF8.GetString(body)) text.Append(char.IsControl(c) ? ' ' : c);
        var plain = text.ToString().Trim();
        return plain.Length == 0 ? null : Echo.Bounded(plain, Echo.MaxMessageLength);
    }

    private static string Describe(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object) return "";
        string? Text(string property) =>
            error.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        var code = Text("code");
        var message = Text("message");
        return code is null ? message ?? "" : message is null ? code : $"{code}: {message}";
    }
}
