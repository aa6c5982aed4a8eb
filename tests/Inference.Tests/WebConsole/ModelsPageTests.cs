using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Tests.Pull;
using Inference.Tests.Support;
using OpenQA.Selenium;

namespace Inference.Tests.WebConsole;

/// <summary>
/// The console's Models page in a real browser against the real server: the list and its loaded
/// state, a pull from the tests' local registry, a create from a GGUF the browser uploads, copy and
/// delete through the confirmation dialog. Every outcome is checked through the API too.
/// </summary>
[Collection(ConsoleBrowser.Collection)]
public sealed class ModelsPageTests(ConsoleBrowser browser, ModelsPageServer server) : IClassFixture<ModelsPageServer>
{
    [Fact]
    public async Task The_list_shows_every_installed_model_with_its_size_details_capabilities_and_loaded_state()
    {
        var tags = (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray();
        Assert.True(tags.Count >= 2);
        OpenModels();
        foreach (var tag in tags)
        {
            var name = (string)tag!["name"]!;
            var row = browser.WaitFor(Row(name));
            var size = (long)tag["size"]!;
            Assert.Equal(size.ToString(CultureInfo.InvariantCulture), Cell(row, "size").GetDomAttribute("data-bytes"));
            Assert.Equal(FormatBytes(size), Cell(row, "size").Text);
            Assert.Equal((string)tag["details"]!["family"]!, Cell(row, "family").Text);
            Assert.Equal((string)tag["details"]!["quantization_level"]!, Cell(row, "quantization").Text);
            var (status, shown) = await server.PostAsync("/api/show", new { model = name });
            Assert.Equal(200, status);
            var capabilities = string.Join(", ", shown!["capabilities"]!.AsArray().Select(c => (string)c!));
            Assert.NotEmpty(capabilities);
            browser.Wait(_ => Cell(browser.Find(Row(name)), "capabilities").Text == capabilities);
        }
        Assert.Equal(tags.Count, browser.FindAll("#models-table tbody tr").Count);

        // Loading a model shows within a /api/ps refresh, with the memory /api/ps reports; the others show as not loaded.
        var (generated, _) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 1 } });
        Assert.Equal(200, generated);
        var ps = (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray();
        var running = ps.Single(m => (string)m!["name"]! == "stories:latest")!;
        var loaded = browser.Wait(_ => Cell(browser.Find(Row("stories:latest")), "loaded") is { } td && td.GetDomAttribute("data-loaded") == "true" ? td : null, 10);
        foreach (var tag in tags)
        {
            var name = (string)tag!["name"]!;
            var expected = ps.Any(m => (string)m!["name"]! == name) ? "true" : "false";
            Assert.Equal(expected, Cell(browser.Find(Row(name)), "loaded").GetDomAttribute("data-loaded"));
        }
        Assert.Contains("false", browser.FindAll("#models-table td[data-test=loaded]").Select(td => td.GetDomAttribute("data-loaded")));
        Assert.Equal($"{FormatBytes((long)running["size"]!)} (VRAM {FormatBytes((long)running["size_vram"]!)})", loaded.FindElement(By.CssSelector("[data-test=memory]")).Text);
        Assert.Matches(@"^expires in \d+ (s|min)$", loaded.FindElement(By.CssSelector("[data-test=expires]")).Text);
        Assert.True(Overflow() <= 0);
        browser.Screenshot("models-list");
        Assert.Empty(browser.PageErrors());

        // Leaving the page stops the /api/ps polling.
        browser.Driver.Navigate().GoToUrl($"{server.BaseUrl}/ui/#/chat");
        browser.Wait(_ => (string?)browser.Script("return document.getElementById('page').dataset.page") == "chat");
        var before = PsRequests();
        await Task.Delay(TimeSpan.FromSeconds(4)); // more than one polling period
        Assert.Equal(before, PsRequests());
    }

    [Fact]
    public async Task A_pull_from_the_local_registry_shows_each_layer_reach_100_percent_and_the_model_joins_the_list()
    {
        var gguf = await SaltedStoriesAsync(0x51);
        await using var registry = new FakeRegistry(gguf);
        await registry.StartAsync();
        var name = $"{registry.Host}/library/stories:latest";
        OpenModels();

        // A model the registry lacks: the page shows the API's own message.
        var missing = $"{registry.Host}/library/missing:latest";
        var (status, refused) = await server.PostAsync("/api/pull", new { model = missing, insecure = true, stream = false });
        Assert.Equal(404, status);
        Pull(missing);
        browser.Wait(_ => browser.Find("#models-pull-status").GetDomAttribute("data-final") == "error");
        Assert.Equal((string)refused!["error"]!, browser.Find("#models-pull-error").Text);

        Pull(name);
        browser.Wait(_ => browser.Find("#models-pull-status").GetDomAttribute("data-final") is { Length: > 0 } final ? final : null, 60);
        Assert.Equal("success", browser.Find("#models-pull-status").Text);
        Assert.Equal("", browser.Find("#models-pull-error").Text);
        // One bar per blob of the manifest (config and model), each complete.
        var layers = browser.FindAll("#models-pull-layers .models-layer");
        Assert.Equal(Sorted(FakeRegistry.Digest(FakeRegistry.Config), FakeRegistry.Digest(gguf)),
            layers.Select(l => l.GetDomAttribute("data-digest")!).Order().ToArray());
        foreach (var layer in layers)
        {
            Assert.Equal("100", layer.GetDomAttribute("data-percent"));
            Assert.EndsWith("(100%)", layer.FindElement(By.CssSelector("[data-test=bytes]")).Text);
        }
        var model = browser.Find($"#models-pull-layers .models-layer[data-digest='{FakeRegistry.Digest(gguf)}']");
        Assert.Equal($"{FormatBytes(gguf.Length)} / {FormatBytes(gguf.Length)} (100%)", model.FindElement(By.CssSelector("[data-test=bytes]")).Text);

        var listed = (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Select(m => (string)m!["name"]!).ToList();
        Assert.Contains(name, listed);
        browser.WaitFor(Row(name));
        browser.Screenshot("models-pull");
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public async Task A_GGUF_chosen_in_the_browser_is_hashed_uploaded_with_progress_and_created_into_a_model_that_generates()
    {
        using var temp = new TempDirectory();
        var gguf = await SaltedStoriesAsync(0x52); // new to the server's store, so it must be uploaded
        var path = temp.Combine("my-stories.gguf");
        await File.WriteAllBytesAsync(path, gguf);
        var hex = Convert.ToHexStringLower(SHA256.HashData(gguf));
        OpenModels();

        browser.Find("#models-create-name").SendKeys("uploaded:v1");
        browser.Find("#models-create-file").SendKeys(path);
        browser.Find("#models-create-button").Click();
        browser.Wait(_ => browser.Find("#models-create-status").GetDomAttribute("data-final") is { Length: > 0 } final ? final : null, 60);
        Assert.Equal("", browser.Find("#models-create-error").Text);
        Assert.Equal("success", browser.Find("#models-create-status").Text);
        Assert.Equal("100", browser.Find("#models-upload-progress").GetDomAttribute("data-percent"));
        Assert.Equal($"{FormatBytes(gguf.Length)} / {FormatBytes(gguf.Length)} (100%)", browser.Find("#models-upload-bytes").Text);
        // The blob the browser uploaded is the file, byte for byte (the server verified the browser's digest).
        Assert.Equal(gguf, await File.ReadAllBytesAsync(Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + hex)));

        browser.WaitFor(Row("uploaded:v1"));
        var (status, generated) = await server.PostAsync("/api/generate", new { model = "uploaded:v1", prompt = "Once", stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, status);
        Assert.Equal(3, (int)generated!["eval_count"]!);
        browser.Wait(_ => Cell(browser.Find(Row("uploaded:v1")), "loaded").GetDomAttribute("data-loaded") == "true", 10);
        browser.Screenshot("models-create");
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public async Task Copy_then_delete_asks_for_confirmation_and_cancel_deletes_nothing()
    {
        OpenModels();
        browser.WaitFor(Row("stories:latest")).FindElement(By.CssSelector("[data-test=copy]")).Click();
        browser.WaitFor("#models-copy-dialog[open]");
        browser.Find("#models-copy-to").SendKeys("stories-copy");
        browser.Find("#models-copy-confirm").Click();
        browser.WaitFor(Row("stories-copy:latest"));
        Assert.True(await Listed("stories-copy:latest"));

        browser.Find(Row("stories-copy:latest")).FindElement(By.CssSelector("[data-test=delete]")).Click();
        browser.WaitFor("#models-delete-dialog[open]");
        Assert.Equal("stories-copy:latest", browser.Find("#models-delete-name").Text);
        browser.Screenshot("models-delete-dialog");
        browser.Find("#models-delete-cancel").Click();
        browser.Wait(_ => browser.FindAll("#models-delete-dialog[open]").Count == 0);
        await Task.Delay(TimeSpan.FromSeconds(1)); // a delete sent anyway would have landed by now
        Assert.True(await Listed("stories-copy:latest"));
        Assert.NotEmpty(browser.FindAll(Row("stories-copy:latest")));

        browser.Find(Row("stories-copy:latest")).FindElement(By.CssSelector("[data-test=delete]")).Click();
        browser.WaitFor("#models-delete-dialog[open]");
        browser.Find("#models-delete-confirm").Click();
        browser.Wait(_ => browser.FindAll(Row("stories-copy:latest")).Count == 0);
        Assert.False(await Listed("stories-copy:latest"));
        // The original shares the copy's blobs: it is still listed and still generates.
        Assert.True(await Listed("stories:latest"));
        Assert.Equal(200, (await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 1 } })).Status);
        Assert.Equal("", browser.Find("#models-error").Text);
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public async Task On_a_phone_each_model_is_a_block_and_nothing_scrolls_sideways()
    {
        var names = (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Select(m => (string)m!["name"]!).ToList();
        try
        {
            browser.Phone();
            OpenModels();
            foreach (var name in names) browser.WaitFor(Row(name));
            Assert.Equal("none", browser.Script("return getComputedStyle(document.querySelector('#models-table thead')).display"));
            Assert.True(Overflow() <= 0, $"the page is {Overflow()} px wider than the phone");
            browser.Screenshot("models-phone");
            Assert.Empty(browser.PageErrors());
        }
        finally
        {
            browser.Desktop();
        }
    }

    /// <summary>A fresh load of the page (a hash change alone would keep the previous test's page and its recorded errors).</summary>
    private void OpenModels()
    {
        browser.Driver.Navigate().GoToUrl("about:blank");
        browser.Open(server.BaseUrl, "models");
    }

    private void Pull(string model)
    {
        var input = browser.Find("#models-pull-name");
        input.Clear();
        input.SendKeys(model);
        var insecure = browser.Find("#models-pull-insecure");
        if (!insecure.Selected) insecure.Click();
        browser.Find("#models-pull-button").Click();
    }

    private static string[] Sorted(params string[] values) => [.. values.Order()];

    private static string Row(string model) => $"#models-table tr[data-model='{model}']";

    private static IWebElement Cell(IWebElement row, string test) => row.FindElement(By.CssSelector($"td[data-test={test}]"));

    private long Overflow() => Convert.ToInt64(browser.Script("return document.documentElement.scrollWidth - window.innerWidth"));

    private long PsRequests() => Convert.ToInt64(browser.Script(
        "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/api/ps')).length"));

    private async Task<bool> Listed(string name) =>
        (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().Any(m => (string)m!["name"]! == name);

    private static async Task<byte[]> SaltedStoriesAsync(byte salt)
    {
        var bytes = await File.ReadAllBytesAsync(TestModels.Stories260K);
        bytes[^1] ^= salt; // a blob of its own, new to the server's store
        return bytes;
    }

    /// <summary>The page's formatBytes (ui.js): powers of 1024, one decimal under 10.</summary>
    private static string FormatBytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return $"{value.ToString(value >= 10 || unit == 0 ? "F0" : "F1", CultureInfo.InvariantCulture)} {units[unit]}";
    }
}

/// <summary>The Models page tests' own server (they add, copy and delete models).</summary>
public sealed class ModelsPageServer : TestServer;
