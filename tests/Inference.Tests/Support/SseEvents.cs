using System.Text.Json.Nodes;

namespace Inference.Tests.Support;

/// <summary>A server-sent event stream as (event name, data) pairs; every event's data names its own type.</summary>
public static class SseEvents
{
    public static async Task<List<(string Name, JsonNode Data)>> ReadAsync(TestServer server, string path, object body)
    {
        using var response = await server.Client.PostAsync(path, TestServer.JsonContent(body));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string, JsonNode)>();
        foreach (var e in (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = e.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!;
            Assert.Equal(lines[0]["event: ".Length..], (string)data["type"]!);
            events.Add((lines[0]["event: ".Length..], data));
        }
        return events;
    }
}
