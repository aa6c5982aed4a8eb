using Inference.Engine.Models;
using Inference.Tests.Platform.Code;
using Inference.Tests.Support;
using OpenQA.Selenium;
using OpenQA.Selenium.Interactions;

namespace Inference.Tests.WebConsole;

/// <summary>The code completion page against the real server and its generated fill-in-the-middle model ("fimcode").</summary>
[Collection(ConsoleBrowser.Collection)]
public sealed class CodePageTests(ConsoleBrowser browser, CodeServer server) : IClassFixture<CodeServer>
{
    private const string Before = "def add(a, b):\n    return ";
    private const string After = "\n\nprint(add(1, 2))\n";

    [Fact]
    public async Task Ctrl_Space_shows_choices_with_their_confidence_and_choosing_one_inserts_it_at_the_cursor()
    {
        foreach (var (size, setViewport) in new (string, Action)[] { ("desktop", browser.Desktop), ("phone", browser.Phone) })
        {
            setViewport();
            browser.OpenWithToken(server.BaseUrl, "code", TestTokens.For("erin"));
            browser.Choose("#code-model", CodeServer.FimModel + ":latest");
            browser.Script("document.getElementById('code-max-tokens').value = '8'");
            var editor = browser.Find("#code-editor");
            // A first line of its own per size, so the prefix cache holds nothing of this prompt yet.
            var before = $"# {size}\n" + Before;
            browser.Script("const e = arguments[0]; e.value = arguments[1]; e.focus(); e.setSelectionRange(arguments[2], arguments[2]);",
                editor, before + After, before.Length);
            long sharedBefore = SharedPrompts();

            new Actions(browser.Driver).KeyDown(Keys.Control).SendKeys(" ").KeyUp(Keys.Control).Perform();
            browser.Wait(_ => browser.FindAll("[data-test=choice]").Count > 0 || browser.FindAll("#code-status .error").Count > 0, seconds: 120);
            Assert.Empty(browser.FindAll("#code-status .error").Select(e => e.Text));

            var choices = browser.FindAll("[data-test=choice]");
            Assert.Equal(3, choices.Count);
            Assert.All(choices, c => Assert.Matches(@"^(\d{1,3}%|<1%|–)$", c.FindElement(By.CssSelector(".code-confidence")).Text));
            Assert.Contains(choices, c => c.FindElement(By.CssSelector(".code-confidence")).Text.EndsWith('%'));
            Assert.StartsWith("3 from fimcode:latest (fill-in-the-middle), confidence ", browser.Find("#code-status").Text);
            // The three completions were sampled from one evaluated prompt: the other two continued the first one's.
            Assert.Equal(2, SharedPrompts() - sharedBefore);
            Assert.Equal(0, await PrometheusText.ScrapeAsync(server.Client, "inference_active_sequences{model=\"fimcode:latest\"}"));
            Assert.True(browser.Overflow() <= 0, $"the choices at {size} are {browser.Overflow()} px wider than the viewport");
            browser.Screenshot($"code-choices-{size}");

            // A choice with text (a random-weight model may end one at once); its text as the page shows it.
            var chosen = choices.First(c => c.FindElements(By.CssSelector("pre.code-empty")).Count == 0);
            var text = (string)browser.Script("return arguments[0].querySelector('pre').textContent", chosen)!;
            chosen.Click();
            Assert.Equal(before + text + After, browser.Script("return document.getElementById('code-editor').value"));
            Assert.Equal((long)(before.Length + text.Length), browser.Script("return document.getElementById('code-editor').selectionStart"));
            Assert.Empty(browser.FindAll("[data-test=choice]"));
            Assert.Empty(browser.PageErrors());
            browser.Screenshot($"code-inserted-{size}");
        }
        browser.Desktop();
    }

    [Fact]
    public void Without_a_token_the_page_asks_for_one_and_sends_nothing()
    {
        browser.Desktop();
        browser.OpenWithToken(server.BaseUrl, "code", token: null);
        Assert.StartsWith("Paste a token to complete code", browser.Find("#code-status").Text);
        browser.Find("#code-editor").SendKeys("x = ");
        browser.Find("#code-complete").Click();
        browser.Wait(_ => browser.TokenDialogOpen());
        Assert.Equal(0, browser.RequestsTo("/ai/code/complete"));
        browser.Script("document.getElementById('token-dialog').close()");
        Assert.Empty(browser.PageErrors());
    }

    /// <summary>Completions that reused another's evaluated prompt (continued in place or copied from its KV stream).</summary>
    private long SharedPrompts()
    {
        var stats = server.Get<ModelManager>().AllStats.SingleOrDefault(s => s.Model == "fimcode:latest");
        return stats is null ? 0 : stats.PrefixesReusedInPlace + stats.KvStreamsCopied;
    }
}
