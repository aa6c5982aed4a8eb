using Inference.Tests.Support;

namespace Inference.Tests.Platform.Replicas;

/// <summary>One replica as an operator runs it: its own process and models folder, the platform's test keys, a Redis.</summary>
public static class Replica
{
    public static async Task<ServerProcess> StartAsync(TempDirectory models, string redis, params string[] settings)
    {
        int port = ServerProcess.FreePort();
        var server = ServerProcess.Start($"http://127.0.0.1:{port}",
        [
            "--urls", $"http://127.0.0.1:{port}",
            "--Inference:ModelsDirectory=" + models.Path,
            "--Logging:LogLevel:Default=Warning",
            "--model", $"stories={TestModels.Stories260K}",
            .. TestTokens.ServerSettings,
            $"--Platform:Redis:ConnectionString={redis}",
            .. settings,
        ]);
        await server.WaitReadyAsync();
        return server;
    }

    public static HttpClient Client(ServerProcess server, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A user no earlier run has used: the shared Redis keeps windows for an hour.</summary>
    public static string NewUser(string name) => name + "-" + Guid.NewGuid().ToString("N")[..8];
}
