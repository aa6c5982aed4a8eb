namespace Inference.Server.Hosting;

/// <summary>
/// Ollama's CORS rule: loopback origins (any port, http or https, and app schemes like tauri://)
/// are always allowed; OLLAMA_ORIGINS adds more, with "*" allowing any and "*" wildcards in hosts.
/// </summary>
public static class OriginPolicy
{
    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]", "0.0.0.0"];

    public static bool IsAllowed(string origin, IReadOnlyList<string> configured)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)) return false;
        if (LoopbackHosts.Contains(uri.Host, StringComparer.OrdinalIgnoreCase) || uri.Host == "::1" || uri.Host == "[::1]") return true;
        foreach (var pattern in configured)
        {
            if (pattern == "*") return true;
            if (Matches(origin.TrimEnd('/'), pattern.TrimEnd('/'))) return true;
        }
        return false;
    }

    private static bool Matches(string origin, string pattern)
    {
        int star = pattern.IndexOf('*');
        if (star < 0) return string.Equals(origin, pattern, StringComparison.OrdinalIgnoreCase);
        string head = pattern[..star], tail = pattern[(star + 1)..];
        return origin.Length >= head.Length + tail.Length
            && origin.StartsWith(head, StringComparison.OrdinalIgnoreCase)
            && origin.EndsWith(tail, StringComparison.OrdinalIgnoreCase);
    }
}
