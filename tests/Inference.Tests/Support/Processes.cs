using System.Diagnostics;

namespace Inference.Tests.Support;

/// <summary>Runs a command line tool (gcc, bash, git) to the end and returns what it printed.</summary>
public static class Processes
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> args,
        string? workingDirectory = null, int seconds = 120)
    {
        var psi = new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs it and fails the test, with its output, unless it exits 0.</summary>
    public static async Task<string> RunCheckedAsync(string program, IEnumerable<string> args, string? workingDirectory = null)
    {
        var (code, stdout, stderr) = await RunAsync(program, args, workingDirectory);
        Assert.True(code == 0, $"{program} exited {code}:\n{stdout}\n{stderr}");
        return stdout;
    }
}
