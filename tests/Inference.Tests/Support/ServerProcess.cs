using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Inference.Tests.Support;

/// <summary>
/// The server as an operator starts it: its own process with the given arguments and environment
/// (nothing inherited that could change its settings), stdout kept line by line, killed on dispose.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process, string url)
    {
        _process = process;
        Url = url;
        Client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Url { get; }
    public HttpClient Client { get; }
    public Process Process => _process;

    /// <summary>Everything the process wrote so far, stdout and stderr.</summary>
    public IReadOnlyList<string> Output => [.. _output];

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <param name="url">Where it will listen; the arguments or environment must say so (--urls or OLLAMA_HOST).</param>
    public static ServerProcess Start(string url, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null) =>
        StartProgram("dotnet", [Path.Combine(AppContext.BaseDirectory, "Inference.Server.dll"), .. args], url, environment, workingDirectory);

    /// <summary>Any program that ends up running the server (a script, say).</summary>
    public static ServerProcess StartProgram(string program, IEnumerable<string> args, string url,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        // The test host's own settings (OLLAMA_*, Inference__*) must not leak into the server under test.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("OLLAMA_", StringComparison.Ordinal) || k.StartsWith("Inference__", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        return new ServerProcess(Process.Start(psi)!, url);
    }

    public async Task WaitReadyAsync(int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var response = await Client.GetAsync("/health");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        Assert.Fail($"the server did not start (exited: {_process.HasExited}); output:\n{string.Join('\n', Output)}");
    }

    /// <summary>Waits for the process to end by itself.</summary>
    public async Task<int> WaitForExitAsync(int seconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await _process.WaitForExitAsync(timeout.Token);
        _process.WaitForExit(); // flushes the redirected output
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
