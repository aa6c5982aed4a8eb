namespace Inference.Server.Hosting;

/// <summary>HTTP-level settings (section "Server").</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>
    /// Origins allowed to call the API from a browser (OLLAMA_ORIGINS, comma-separated; "*" for any).
    /// Like Ollama, loopback origins are always allowed.
    /// </summary>
    public string AllowedOrigins { get; set; } = "";

    /// <summary>
    /// Host names accepted on loopback connections besides the local ones (see <see cref="HostAllowlist"/>):
    /// comma-separated exact names or "*.example.com"; "*" turns the DNS-rebinding check off.
    /// Needed when a reverse proxy on this machine forwards its own Host header.
    /// </summary>
    public string AllowedHosts { get; set; } = "";

    /// <summary>In-flight streams get this long to finish at shutdown before they are ended with done_reason "unload".</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests per minute each client address may make to /api and /v1 routes; 0 = no limit (Ollama has none).</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 1_000_000)]
    public int RequestsPerMinute { get; set; }

    public IReadOnlyList<string> Origins => List(AllowedOrigins);

    public IReadOnlyList<string> Hosts => List(AllowedHosts);

    private static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
