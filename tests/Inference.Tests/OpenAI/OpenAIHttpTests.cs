using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>The /v1 wire format checked as raw HTTP: SSE framing, error objects, usage.</summary>
[Collection("server")]
public sealed class OpenAIHttpTests(SharedServer server)
{
    [Fact]
    public async Task Streaming_is_server_sent_events_ending_with_done()
    {
        var body = new { model = "stories", messages = new[] { new { role = "user", content = "Tom went" } }, max_tokens = 5, temperature = 0, stream = true };
        using var response = await server.Client.PostAsync("/v1/chat/completions", TestServer.JsonContent(body));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string)c["object"]!));
        Assert.Single(chunks.Select(c => (string)c["id"]!).Distinct());
        Assert.Equal("assistant", (string)chunks[0]["choices"]![0]!["delta"]!["role"]!);
        Assert.Equal("length", (string)chunks[^1]["choices"]![0]!["finish_reason"]!);
        Assert.Null(chunks[^1]["usage"]); // only with stream_options.include_usage
        Assert.True(chunks.Count(c => ((string?)c["choices"]![0]!["delta"]!["content"] ?? "").Length > 0) is > 0 and <= 5);
    }

    [Theory]
    [InlineData("{\"model\":\"stories\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":9}", "n must be between 1 and 8", "n")]
    [InlineData("{\"model\":\"stories\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "invalid role 'wizard' in messages[0]", "messages[0].role")]
    [InlineData("{\"model\":\"stories\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":7}", "stop must be a string or an array of strings", "stop")]
    [InlineData("{\"model\":\"stories\",\"messages\":[]}", "messages must be a non-empty array", "messages")]
    [InlineData("{\"model\":\"stories\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}", "only text content parts are supported", "messages[0].content")]
    public async Task Bad_requests_get_openais_error_object(string body, string message, string param)
    {
        var (status, text) = await server.PostRawAsync("/v1/chat/completions", body);
        Assert.Equal(400, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal(message, (string)error["message"]!);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal(param, (string)error["param"]!);
    }

    [Fact]
    public async Task Completions_count_prompt_and_completion_tokens()
    {
        var (status, r) = await server.PostAsync("/v1/completions", new { model = "stories", prompt = "A dog named Max", max_tokens = 6, temperature = 0 });
        Assert.Equal(200, status);
        Assert.Equal(6, (int)r!["usage"]!["completion_tokens"]!);
        Assert.True((int)r["usage"]!["prompt_tokens"]! > 3);
        Assert.Equal("length", (string)r["choices"]![0]!["finish_reason"]!);
        Assert.StartsWith("cmpl-", (string)r["id"]!);
    }
}
