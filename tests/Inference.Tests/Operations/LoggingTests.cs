using System.Collections.Concurrent;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inference.Tests.Operations;

/// <summary>Records every log entry with its structured values.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public sealed record Entry(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values);

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public ILogger CreateLogger(string category) => new Logger(this, category);
    public void Dispose() { }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel level) => true;
        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? ex, Func<TState, Exception?, string> format)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : new();
            owner.Entries.Enqueue(new Entry(category, level, format(state, ex), values));
        }
    }
}

public sealed class LoggingServer : TestServer
{
    public CapturedLogs Logs { get; } = new();
    protected override IEnumerable<string> Settings => ["--Logging:LogLevel:Default=Information"];
    protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);
}

public sealed class LoggingTests(LoggingServer server) : IClassFixture<LoggingServer>
{
    [Fact]
    public async Task A_generation_logs_counts_and_durations_but_never_the_prompt_or_the_output()
    {
        const string secret = "Zebra umbrella Quokka";
        var (status, r) = await server.PostAsync("/api/generate",
            new { model = "stories", prompt = secret, system = "Marmalade", stream = false, options = new { num_predict = 5, temperature = 0 } });
        Assert.Equal(200, status);
        var output = (string)r!["response"]!;
        var (chatStatus, _) = await server.PostAsync("/api/chat",
            new { model = "stories", messages = new[] { new { role = "user", content = secret } }, stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, chatStatus);

        var finished = server.Logs.Entries.Where(e => e.Message.StartsWith("Generation finished", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, finished.Count);
        var first = finished[0];
        Assert.Equal("/api/generate", first.Values["Route"]);
        Assert.Equal("stories:latest", first.Values["Model"]);
        Assert.Equal(5, first.Values["EvalCount"]);
        Assert.True((int)first.Values["PromptEvalCount"]! > 0);
        Assert.True((double)first.Values["TotalMs"]! > 0);

        foreach (var e in server.Logs.Entries)
        {
            var all = e.Message + " " + string.Join(" ", e.Values.Values.Select(v => v?.ToString()));
            Assert.DoesNotContain("Zebra", all, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Marmalade", all, StringComparison.OrdinalIgnoreCase);
            if (output.Trim().Length > 8) Assert.DoesNotContain(output.Trim(), all);
        }
    }
}
