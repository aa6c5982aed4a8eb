using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>Request bodies are bounded per route, and a body over the bound is 413 in the route's own error shape.</summary>
[Collection("server")]
public sealed class RequestBodyLimitTests(SharedServer server)
{
    private static string JsonWithPadding(string head, int bytes) => head + new string(' ', bytes) + "}";

    private async Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(string path, HttpContent content)
    {
        // As curl does for large bodies: the server can refuse before the body is sent.
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content, Headers = { ExpectContinue = true } };
        using var response = await server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    [Fact]
    public async Task Model_management_routes_take_at_most_one_mebibyte()
    {
        var (status, body) = await PostAsync("/api/show", new StringContent(JsonWithPadding("""{"model":"stories" """, 1 << 20), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request body too large: this route accepts at most 1 MiB", (string)body!["error"]!);

        var (smallStatus, _) = await PostAsync("/api/show", new StringContent(JsonWithPadding("""{"model":"stories" """, 900_000), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, smallStatus);
    }

    [Fact]
    public async Task A_chunked_body_without_a_length_is_cut_at_the_same_bound()
    {
        var bytes = Encoding.UTF8.GetBytes(JsonWithPadding("""{"source":"stories","destination":"too-big" """, 2 << 20));
        var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/copy") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request body too large: this route accepts at most 1 MiB",
            (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!);
        var tags = await server.GetJsonAsync("/api/tags");
        Assert.DoesNotContain(tags["models"]!.AsArray(), m => ((string)m!["name"]!).StartsWith("too-big", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Generation_routes_take_sixteen_mebibytes_and_answer_in_their_own_shape()
    {
        var (status, body) = await PostAsync("/v1/chat/completions",
            new StringContent(JsonWithPadding("""{"model":"stories","messages":[{"role":"user","content":"hi"}] """, 16 << 20), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request body too large: this route accepts at most 16 MiB", (string)body!["error"]!["message"]!);
        Assert.Equal("invalid_request_error", (string)body["error"]!["type"]!);

        var (anthropicStatus, anthropic) = await PostAsync("/v1/messages",
            new StringContent(JsonWithPadding("""{"model":"stories","max_tokens":5,"messages":[{"role":"user","content":"hi"}] """, 16 << 20), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, anthropicStatus);
        Assert.Equal("""{"type":"error","error":{"type":"request_too_large","message":"request body too large: this route accepts at most 16 MiB"}}""",
            anthropic!.ToJsonString());

        var (ollamaStatus, ollama) = await PostAsync("/api/generate",
            new StringContent(JsonWithPadding("""{"model":"stories","prompt":"Once" """, 16 << 20), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, ollamaStatus);
        Assert.Equal("request body too large: this route accepts at most 16 MiB", (string)ollama!["error"]!);

        // Two mebibytes of padding is within a generation route's bound: the request is served.
        var (okStatus, ok) = await PostAsync("/api/generate",
            new StringContent(JsonWithPadding("""{"model":"stories","prompt":"Once","stream":false,"options":{"num_predict":2} """, 2 << 20), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Equal(2, (int)ok!["eval_count"]!);
    }
}
