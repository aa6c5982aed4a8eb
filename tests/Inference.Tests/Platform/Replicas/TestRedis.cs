using System.Diagnostics;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.Replicas;

/// <summary>
/// Redis for the replica tests. <see cref="Shared"/> is INFERENCE_TEST_REDIS ("host:port"), which
/// scripts/test.sh sets after starting a throwaway Redis (scripts/redis-test.sh); without it the tests
/// fail saying so, never pass silently. By hand: <c>eval "$(scripts/redis-test.sh start)"</c>, then
/// dotnet test, then <c>eval "$REDIS_TEST_STOP"</c>. <see cref="StartPrivate"/> runs a Redis of a
/// test's own (the same redis-server program), for tests that stop it.
/// </summary>
public static class TestRedis
{
    public const string Variable = "INFERENCE_TEST_REDIS";

    public static string Shared =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value
        : throw new InvalidOperationException(
            $"{Variable} is not set: these tests need a real Redis. Run scripts/test.sh, or eval \"$(scripts/redis-test.sh start)\" before dotnet test.");

    /// <summary>A redis-server process on a free loopback port, without persistence; killed on dispose.</summary>
    public static async Task<PrivateRedis> StartPrivate(int? port = null)
    {
        _ = Shared; // the same precondition: the Redis tests run where scripts/redis-test.sh ran
        int p = port ?? ServerProcess.FreePort();
        var process = Process.Start(new ProcessStartInfo("redis-server", ["--port", p.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var redis = new PrivateRedis(process, p);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.0.0.1", p);
                return redis;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(50);
            }
        }
        await redis.DisposeAsync();
        throw new InvalidOperationException($"redis-server did not start on port {p}");
    }
}

public sealed class PrivateRedis(Process process, int port) : IAsyncDisposable
{
    public int Port => port;
    public string Address => $"127.0.0.1:{port}";

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
