using System.Net;
using System.Text.Json.Nodes;
using Inference.Tests.Support;
using OpenQA.Selenium;

namespace Inference.Tests.WebConsole;

/// <summary>
/// The console under the Host/Origin guards: opened as http://localhost:port/ui/ its POSTs are same-origin
/// and pass; a page on another site is still refused, and no CORS answer lets it read anything.
/// </summary>
[Collection(ConsoleBrowser.Collection)]
public sealed class ConsoleOriginTests(ConsoleBrowser browser, TestServer server) : IClassFixture<TestServer>
{
    [Fact]
    public void Opened_as_localhost_the_console_posts_to_its_own_server()
    {
        var localhost = server.BaseUrl.Replace("http://127.0.0.1:", "http://localhost:", StringComparison.Ordinal);
        Assert.NotEqual(server.BaseUrl, localhost);
        browser.Open(localhost, "chat");
        // A POST the chat and models pages make (Chromium sends Origin: http://localhost:port with it).
        var answer = Convert.ToString(((IJavaScriptExecutor)browser.Driver).ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            import('/ui/api.js').then(api => api.send('/api/show', 'POST', { model: 'stories' }))
              .then(r => done(r.details.family), e => done('error ' + e.status + ': ' + e.message));
            """));
        Assert.Equal("llama", answer);
        Assert.Equal(localhost + "/ui/#/chat", browser.Driver.Url);
        Assert.Empty(browser.PageErrors());
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://rebound.example:11434")] // another site, even on the server's own port
    public async Task A_post_from_another_origin_is_refused_and_gets_no_cors_answer(string origin)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/api/show") { Content = TestServer.JsonContent(new { model = "stories" }) };
        post.Headers.Add("Origin", origin);
        using var refused = await server.Client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("requests from this origin are not allowed; add it to OLLAMA_ORIGINS (Server:AllowedOrigins)",
            (string)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!);

        // A preflight (what a fetch with JSON would send first) is not answered with permission.
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/show");
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        using var answer = await server.Client.SendAsync(preflight);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));

        // The console's files are not readable cross-origin either.
        using var page = new HttpRequestMessage(HttpMethod.Get, "/ui/app.js");
        page.Headers.Add("Origin", origin);
        using var script = await server.Client.SendAsync(page);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.False(script.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
