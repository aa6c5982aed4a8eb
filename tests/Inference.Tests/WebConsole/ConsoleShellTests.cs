using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.RegularExpressions;
using Inference.Tests.Support;
using Xunit.Abstractions;

namespace Inference.Tests.WebConsole;

/// <summary>The console's shell: how it is served, that it loads nothing from elsewhere, and that every page opens at both sizes.</summary>
[Collection(ConsoleBrowser.Collection)]
public sealed partial class ConsoleShellTests(ConsoleBrowser browser, ITestOutputHelper output) : IClassFixture<TestServer>, IAsyncLifetime
{
    private readonly TestServer _server = new();
    private static readonly string[] Pages = ["chat", "sql", "code", "models", "dashboard"];

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Root_still_answers_like_Ollama_and_ui_redirects_to_the_console()
    {
        Assert.Equal("Ollama is running", await _server.Client.GetStringAsync("/"));
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _server.Client.BaseAddress };
        using var redirect = await noRedirect.GetAsync("/ui");
        Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.EndsWith("/ui/", redirect.Headers.Location?.OriginalString);
        using var index = await noRedirect.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script type=\"module\" src=\"app.js\">", await index.Content.ReadAsStringAsync());
        using var missing = await noRedirect.GetAsync("/ui/no-such-file.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Console_files_are_compressed_but_the_api_streams_are_not()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ui/app.js");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var script = await _server.Client.SendAsync(request);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["gzip"], script.Content.Headers.ContentEncoding);

        using var tags = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        tags.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var api = await _server.Client.SendAsync(tags);
        Assert.Empty(api.Content.Headers.ContentEncoding);
    }

    /// <summary>Offline by construction: no embedded file names another host (CDN, fonts, analytics).</summary>
    [Fact]
    public void No_console_file_loads_anything_from_another_host()
    {
        var assembly = typeof(Inference.Server.WebConsole.ConsoleApi).Assembly;
        var names = assembly.GetManifestResourceNames().Where(n => n.Contains("WebConsole.wwwroot")).ToList();
        Assert.Contains(names, n => n.EndsWith("index.html"));
        Assert.True(names.Count >= 10, string.Join(", ", names));
        foreach (var name in names)
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            var text = reader.ReadToEnd();
            Assert.False(ExternalUrl().IsMatch(text), $"{name} refers to another host: {ExternalUrl().Match(text).Value}");
        }
    }

    [Fact]
    public async Task Every_page_opens_without_errors_on_a_desktop_and_on_a_phone()
    {
        await Task.Yield();
        foreach (var (size, setViewport) in new (string, Action)[] { ("desktop", browser.Desktop), ("phone", browser.Phone) })
        {
            setViewport();
            foreach (var page in Pages)
            {
                browser.Open(_server.BaseUrl, page);
                Assert.Equal("page", browser.Find($"#nav a[data-page={page}]").GetDomAttribute("aria-current"));
                // Nothing wider than the viewport: a phone scrolls down, never sideways.
                var overflow = Convert.ToInt64(browser.Script("return document.documentElement.scrollWidth - window.innerWidth"));
                Assert.True(overflow <= 0, $"{page} at {size} is {overflow} px wider than the viewport");
                browser.Screenshot($"shell-{page}-{size}");
            }
            Assert.Empty(browser.PageErrors());
        }
        browser.Desktop();
    }

    /// <summary>The issue's budget: the first load (shell and default page) under 300 KB transferred, compressed.</summary>
    [Fact]
    public void First_load_transfers_under_300_KB()
    {
        browser.Driver.ExecuteCdpCommand("Network.clearBrowserCache", new Dictionary<string, object?>());
        browser.Open(_server.BaseUrl, "chat");
        browser.Wait(_ => Convert.ToBoolean(browser.Script("return document.readyState === 'complete'")));
        var transferred = Convert.ToInt64(browser.Script(
            "return performance.getEntries().filter(e => 'transferSize' in e).reduce((sum, e) => sum + e.transferSize, 0)"));
        var resources = Convert.ToInt64(browser.Script("return performance.getEntriesByType('resource').length"));
        Assert.True(resources >= 4, $"only {resources} resources were timed");
        output.WriteLine($"first load of #/chat: {transferred} bytes transferred in {resources + 1} requests"); // the README quotes this
        Assert.InRange(transferred, 1, 300 * 1024);
    }

    [GeneratedRegex(@"(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9-]+\.[a-z0-9.-]+", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalUrl();
}
