using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

/// <summary>A server on loopback that also accepts one proxy's host name.</summary>
public sealed class ProxiedServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Server:AllowedHosts=ai.example.com,*.corp.example", "--Server:AllowedOrigins=https://app.example.com"];
}

/// <summary>
/// DNS rebinding and cross-site requests from a browser: the Host check on loopback connections and
/// the Origin check on requests that change something.
/// </summary>
public sealed class BrowserGuardTests(ProxiedServer server) : IClassFixture<ProxiedServer>
{
    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? host = null,
        string? origin = null, string? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (host is not null) request.Headers.Host = host;
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private async Task<bool> InstalledAsync(string name) =>
        (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Any(m => (string)m!["name"]! == name);

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:11434")]
    [InlineData("127.0.0.1.evil.example")]
    [InlineData("localhost.evil.example")]
    [InlineData("8.8.8.8")]
    public async Task A_rebound_host_name_is_403_on_every_route(string host)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, "/api/tags", host);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("this host name is not allowed on a server listening on a loopback address; add it to Server:AllowedHosts", (string)body!["error"]!);

        var (v1Status, v1) = await SendAsync(HttpMethod.Get, "/v1/models", host);
        Assert.Equal(HttpStatusCode.Forbidden, v1Status);
        Assert.Equal("invalid_request_error", (string)v1!["error"]!["type"]!);

        var (generateStatus, _) = await SendAsync(HttpMethod.Post, "/api/generate", host, body: """{"model":"stories","prompt":"Once","stream":false}""");
        Assert.Equal(HttpStatusCode.Forbidden, generateStatus);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, "/", host)).Status);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST:11434")]
    [InlineData("127.0.0.1:11434")]
    [InlineData("127.0.0.2")]
    [InlineData("[::1]:11434")]
    [InlineData("0.0.0.0")]
    [InlineData("10.1.2.3")]
    [InlineData("192.168.0.7:8080")]
    [InlineData("app.localhost")]
    [InlineData("box.local")]
    [InlineData("box.internal")]
    [InlineData("ai.example.com")]
    [InlineData("team.corp.example:443")]
    public async Task Local_names_addresses_and_listed_hosts_are_served(string host)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, "/api/tags", host);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotNull(body!["models"]);
    }

    [Fact]
    public async Task The_machines_own_host_name_is_served()
    {
        var (status, _) = await SendAsync(HttpMethod.Get, "/api/tags", System.Net.Dns.GetHostName());
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task A_cross_site_text_plain_copy_is_refused_and_copies_nothing()
    {
        var copy = """{"source":"stories","destination":"csrf-copy"}""";
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/copy", origin: "http://evil.example", body: copy, contentType: "text/plain");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("requests from this origin are not allowed; add it to OLLAMA_ORIGINS (Server:AllowedOrigins)", (string)body!["error"]!);
        Assert.False(await InstalledAsync("csrf-copy:latest"));

        // A form post and a sandboxed page ("null") are refused the same way.
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/api/copy", origin: "null", body: copy, contentType: "text/plain")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/api/copy", origin: "https://evil.example",
            body: "source=stories&destination=csrf-copy", contentType: "application/x-www-form-urlencoded")).Status);
        Assert.False(await InstalledAsync("csrf-copy:latest"));
    }

    [Theory]
    [InlineData("DELETE", "/api/delete", """{"model":"stories"}""")]
    [InlineData("POST", "/api/create", """{"model":"csrf-created","from":"stories"}""")]
    [InlineData("POST", "/api/pull", """{"model":"127.0.0.1:1/library/x:latest","insecure":true}""")]
    [InlineData("POST", "/api/push", """{"model":"stories","insecure":true}""")]
    [InlineData("POST", "/api/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000", "x")]
    [InlineData("POST", "/api/generate", """{"model":"stories","prompt":"Once","stream":false}""")]
    [InlineData("POST", "/v1/chat/completions", """{"model":"stories","messages":[{"role":"user","content":"hi"}]}""")]
    public async Task Every_changing_route_refuses_a_foreign_origin(string method, string path, string body)
    {
        var (status, _) = await SendAsync(new HttpMethod(method), path, origin: "https://evil.example", body: body, contentType: "text/plain");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.True(await InstalledAsync("stories:latest"));
        Assert.False(await InstalledAsync("csrf-created:latest"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("http://localhost:3000")]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("https://app.example.com")]
    public async Task Clients_without_an_origin_loopback_pages_and_allowed_origins_may_change_things(string? origin)
    {
        var name = "allowed-copy-" + Guid.NewGuid().ToString("N")[..8];
        var (status, _) = await SendAsync(HttpMethod.Post, "/api/copy", origin: origin, body: $$"""{"source":"stories","destination":"{{name}}"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(await InstalledAsync(name + ":latest"));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Delete, "/api/delete", origin: origin, body: $$"""{"model":"{{name}}"}""")).Status);
    }

    [Fact]
    public async Task A_page_served_under_an_accepted_host_may_call_its_own_server()
    {
        var name = "same-origin-" + Guid.NewGuid().ToString("N")[..8];
        var port = new Uri(server.BaseUrl).Port;
        var (status, _) = await SendAsync(HttpMethod.Post, "/api/copy", host: $"ai.example.com:{port}", origin: $"http://ai.example.com:{port}",
            body: $$"""{"source":"stories","destination":"{{name}}"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(await InstalledAsync(name + ":latest"));
    }

    [Fact]
    public async Task Reading_routes_answer_any_origin_without_cors_headers_for_it()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags") { Headers = { { "Origin", "https://evil.example" } } };
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin")); // the browser keeps the answer from the page
    }
}
