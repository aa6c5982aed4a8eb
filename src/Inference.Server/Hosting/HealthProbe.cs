namespace Inference.Server.Hosting;

/// <summary>Asks the local server's readiness endpoint; exit code 0 when ready (used by Docker's HEALTHCHECK).</summary>
public static class HealthProbe
{
    public static async Task<int> RunAsync()
    {
        var url = new Uri(ServerConfiguration.ListenUrl(Environment.GetEnvironmentVariable("OLLAMA_HOST")));
        // A wildcard listen address is probed on loopback.
        var host = url.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : url.Host;
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync($"{url.Scheme}://{host}:{url.Port}/health/ready");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return 1;
        }
    }
}
