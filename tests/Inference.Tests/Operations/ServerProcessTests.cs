using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Inference.Tests.Operations;

/// <summary>The server as an operator runs it: a separate process, signals and exit codes.</summary>
public sealed class ServerProcessTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (Process Process, string Url) Start(params string[] settings)
    {
        int port = FreePort();
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Inference.Server.dll"),
            "--urls", $"http://127.0.0.1:{port}", "--Inference:ModelsDirectory=" + Directory.CreateTempSubdirectory().FullName, .. settings])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return (process, $"http://127.0.0.1:{port}");
    }

    private static async Task WaitAliveAsync(HttpClient client, string url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await client.GetAsync(url + "/health")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        Assert.Fail("server did not start");
    }

    [Fact]
    public async Task A_backend_that_cannot_load_fails_readiness_but_the_process_keeps_serving()
    {
        var (process, url) = Start("--Inference:Backend=Cuda");
        using var client = new HttpClient();
        try
        {
            await WaitAliveAsync(client, url);
            using var ready = await client.GetAsync(url + "/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.Equal("Unhealthy", (string)body["status"]!);
            Assert.False(string.IsNullOrEmpty((string)body["checks"]!["llama.cpp backend"]!));
            Assert.Equal("Ollama is running", await client.GetStringAsync(url + "/"));
            Assert.False(process.HasExited);
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    [Fact]
    public async Task Sigterm_shuts_down_cleanly_with_exit_code_zero()
    {
        var (process, url) = Start();
        using var client = new HttpClient();
        await WaitAliveAsync(client, url);
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            kill.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the server did not exit after SIGTERM");
        Assert.Equal(0, process.ExitCode);
    }
}
