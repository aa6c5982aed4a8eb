using System.Text.Json.Nodes;
using Inference.Tests.Support;
using Microsoft.Extensions.Hosting;

namespace Inference.Tests.Operations;

/// <summary>A server of its own that the test stops, with a short grace period.</summary>
public sealed class StoppableServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Server:ShutdownGracePeriod=00:00:01"];
}

public sealed class ShutdownTests(StoppableServer server) : IClassFixture<StoppableServer>
{
    [Fact]
    public async Task Shutdown_ends_in_flight_streams_with_a_final_unload_object()
    {
        var body = new { model = "tiny", prompt = "Once", options = new { num_predict = -1, num_ctx = 32768 } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = TestServer.JsonContent(body) };
        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.NotNull(await reader.ReadLineAsync());

        var lifetime = server.Get<IHostApplicationLifetime>();
        var stopped = Task.Run(lifetime.StopApplication);
        JsonNode? last = null;
        while (await reader.ReadLineAsync() is { } line) last = JsonNode.Parse(line);
        await stopped;

        Assert.NotNull(last);
        Assert.True((bool)last["done"]!);
        Assert.Equal("unload", (string)last["done_reason"]!);
        Assert.True((int)last["eval_count"]! > 0);
        Assert.Empty(server.Get<Inference.Engine.Models.ModelManager>().Loaded);
    }
}
