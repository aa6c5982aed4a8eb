using System.Text.Json.Nodes;
using Inference.Engine.Models;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Inference.Tests.Ollama;

/// <summary>A server whose model manager keeps time by a fake clock that only the test moves.</summary>
public sealed class FakeClockServer : TestServer
{
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));

    protected override void Configure(WebApplicationBuilder builder) => builder.Services.AddSingleton<TimeProvider>(Clock);
}

/// <summary>keep_alive in fake time: a model stays loaded for exactly its keep-alive, then is unloaded, without waiting.</summary>
public sealed class KeepAliveTests(FakeClockServer server) : IClassFixture<FakeClockServer>
{
    private async Task<JsonNode?> Running(string name) =>
        (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray().FirstOrDefault(m => (string)m!["name"]! == name);

    /// <summary>Moves the clock and waits until the manager's expiry loop has looked at the models since.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        var manager = server.Get<ModelManager>();
        long passes = Interlocked.Read(ref manager.ExpiryPasses);
        server.Clock.Advance(by);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Interlocked.Read(ref manager.ExpiryPasses) == passes && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.True(Interlocked.Read(ref manager.ExpiryPasses) > passes, "the expiry loop did not run after the clock moved");
    }

    [Fact]
    public async Task A_model_is_unloaded_when_its_keep_alive_ends_and_not_before()
    {
        var started = server.Clock.GetUtcNow();
        var (status, r) = await server.PostAsync("/api/chat", new
        {
            model = "stories",
            messages = new[] { new { role = "user", content = "hi" } },
            stream = false,
            keep_alive = "5m",
            options = new { num_predict = 2 },
        });
        Assert.Equal(200, status);
        Assert.True((long)r!["load_duration"]! > 0, "the first request loads the model");
        var ps = await Running("stories:latest");
        Assert.NotNull(ps);
        Assert.Equal(started + TimeSpan.FromMinutes(5), DateTimeOffset.Parse((string)ps["expires_at"]!));

        await AdvanceAsync(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.NotNull(await Running("stories:latest"));

        await AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Null(await Running("stories:latest"));
    }
}
