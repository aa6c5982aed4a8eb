using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.GrammarFuzz;

[JsonSerializable(typeof(ProbeRequest))]
[JsonSerializable(typeof(ProbeResponse))]
internal sealed partial class FuzzJson : JsonSerializerContext;

/// <summary>How a probe ended, seen from the parent.</summary>
public enum ProbeOutcome { Answered, Crashed, TimedOut, OutOfMemory }

/// <summary>
/// The parent side of one worker process: sends a request, waits for its answer within a time limit while
/// watching the worker's memory, and restarts the worker after it dies or is killed.
/// </summary>
public sealed class WorkerProcess(string modelPath, TimeSpan timeout, long memoryLimitBytes) : IDisposable
{
    private Process? _process;
    private long _nextId;

    private readonly Queue<string> _recentErrors = new();

    /// <summary>The last lines the worker wrote to stderr (llama.cpp's own messages, an abort's backtrace), copied: a reader thread adds to them.</summary>
    public IReadOnlyList<string> RecentErrors
    {
        get { lock (_recentErrors) return [.. _recentErrors]; }
    }

    public int Starts { get; private set; }

    /// <summary>The exit code of the last worker that died or was stopped (134 = SIGABRT, 139 = SIGSEGV under a shell).</summary>
    public int? LastExitCode { get; private set; }

    public (ProbeOutcome Outcome, ProbeResponse? Response) Probe(string grammar, int sampleTokens, uint seed)
    {
        var process = EnsureStarted();
        var request = new ProbeRequest(++_nextId, grammar, sampleTokens, seed);
        try
        {
            process.StandardInput.WriteLine(JsonSerializer.Serialize(request, FuzzJson.Default.ProbeRequest));
            process.StandardInput.Flush();
        }
        catch (IOException)
        {
            return (Stop(ProbeOutcome.Crashed), null);
        }

        var reply = process.StandardOutput.ReadLineAsync();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (reply.Wait(TimeSpan.FromMilliseconds(50)))
            {
                var line = reply.Result;
                if (line is null) return (Stop(ProbeOutcome.Crashed), null);
                if (!line.StartsWith(GrammarWorker.ReplyPrefix, StringComparison.Ordinal))
                {
                    reply = process.StandardOutput.ReadLineAsync();
                    continue;
                }
                var response = JsonSerializer.Deserialize(line[GrammarWorker.ReplyPrefix.Length..], FuzzJson.Default.ProbeResponse)!;
                if (response.Id != request.Id) throw new InvalidOperationException($"the worker answered request {response.Id}, not {request.Id}");
                return (ProbeOutcome.Answered, response);
            }
            if (deadline.Elapsed > timeout) return (Stop(ProbeOutcome.TimedOut), null);
            process.Refresh();
            if (!process.HasExited && process.WorkingSet64 > memoryLimitBytes) return (Stop(ProbeOutcome.OutOfMemory), null);
        }
    }

    private Process EnsureStarted()
    {
        if (_process is { HasExited: false }) return _process;
        _process?.Dispose();
        var start = WorkerCommand();
        start.ArgumentList.Add("worker");
        start.ArgumentList.Add("--model");
        start.ArgumentList.Add(modelPath);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start a grammar worker");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_recentErrors)
            {
                _recentErrors.Enqueue(e.Data);
                while (_recentErrors.Count > 40) _recentErrors.Dequeue();
            }
        };
        process.BeginErrorReadLine();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line == GrammarWorker.ReplyPrefix + "ready")
            {
                Starts++;
                return _process = process;
            }
        }
        throw new InvalidOperationException("the grammar worker exited before it was ready: " + string.Join("\n", RecentErrors));
    }

    /// <summary>This assembly run as a worker: through its apphost when there is one, else through dotnet.</summary>
    private static ProcessStartInfo WorkerCommand()
    {
        var assembly = typeof(WorkerProcess).Assembly.Location;
        var apphost = Path.ChangeExtension(assembly, null);
        if (File.Exists(apphost)) return new ProcessStartInfo(apphost);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(dotnet);
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        return start;
    }

    private ProbeOutcome Stop(ProbeOutcome outcome)
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
                LastExitCode = process.HasExited ? process.ExitCode : null;
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            process.Dispose();
            _process = null;
        }
        return outcome;
    }

    public void Dispose()
    {
        if (_process is { } process)
        {
            try
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(5000)) process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                // Already gone.
            }
            process.Dispose();
            _process = null;
        }
    }
}
