using Inference.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenQA.Selenium;

namespace Inference.Tests.WebConsole;

/// <summary>A server whose every route needs a token, and which mints development tokens.</summary>
public sealed class ProtectedConsoleServer : DevelopmentTokenServer
{
    protected override IEnumerable<string> MoreSettings => ["--Platform:RequireAuthOnCompatibleRoutes=true"];
}

/// <summary>
/// The console when the server requires tokens: the first 401 opens the token dialog saying why, a
/// pasted token is sent on every call, and the development token button fills one in.
/// </summary>
[Collection(ConsoleBrowser.Collection)]
public sealed class ConsoleAuthTests(ConsoleBrowser browser, ProtectedConsoleServer server) : IClassFixture<ProtectedConsoleServer>
{
    [Fact]
    public void Without_a_token_the_console_asks_for_one_and_a_pasted_token_is_sent_on_every_call()
    {
        OpenWithoutToken("models");
        Assert.Equal("This server needs a token: missing bearer token.", browser.WaitFor("#token-reason").Text);
        Assert.Contains("needed", browser.Find("#token-button").GetDomAttribute("class"));
        browser.Screenshot("auth-prompt");

        // A token that the server does not accept is named as such.
        SaveToken("not-a-token");
        browser.Wait(_ => browser.Find("#token-reason").Text == "The server refused the token: invalid bearer token.");

        SaveToken(TestTokens.For("alice"));
        browser.Wait(_ => !IsDialogOpen());
        Assert.False(browser.Find("#token-reason").Displayed);
        Assert.Equal("set", browser.Find("#token-button").GetDomAttribute("class"));
        // The call the models page makes, through the shell's api.js: it now carries the token.
        Assert.Equal("stories:latest,tiny:latest", CallFromPage("/api/tags", "r.models.map(m => m.name).sort().join(',')"));
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public void The_prompt_fits_a_phone()
    {
        browser.Phone();
        try
        {
            OpenWithoutToken("chat");
            browser.WaitFor("#dev-token-get");
            var overflow = Convert.ToInt64(browser.Script("return document.documentElement.scrollWidth - window.innerWidth"));
            Assert.True(overflow <= 0, $"the token dialog is {overflow} px wider than a phone");
            var dialogRight = Convert.ToDouble(browser.Script("return document.getElementById('token-dialog').getBoundingClientRect().right"));
            Assert.InRange(dialogRight, 1, 390);
            browser.Screenshot("auth-prompt-phone");
        }
        finally
        {
            browser.Desktop();
        }
    }

    [Fact]
    public void The_development_token_button_fills_in_a_token_for_the_chosen_tenants()
    {
        OpenWithoutToken("sql");
        browser.WaitFor("#dev-token-get");
        Assert.Equal(DevelopmentTokenServer.Tenants, browser.FindAll("#dev-token input[type=checkbox]").Select(b => b.GetDomAttribute("value")));
        browser.Find("#dev-token input[data-tenant=tenant_a]").Click(); // keep tenant_b only
        browser.Find("#dev-token-get").Click();
        var token = browser.Wait(_ => browser.Find("#token-input").GetDomProperty("value") is { Length: > 0 } value ? value : null);
        Assert.Equal(["tenant_b"], new JsonWebToken(token).GetPayloadValue<List<string>>("tenants"));
        Assert.StartsWith("Token for console-developer, valid until ", browser.Find("#dev-token-status").Text);
        browser.Screenshot("auth-dev-token");

        browser.Find("#token-dialog button[value=save]").Click();
        browser.Wait(_ => !IsDialogOpen());
        Assert.Equal("stories:latest,tiny:latest", CallFromPage("/ai/models", "r.models.map(m => m.name).sort().join(',')"));
        Assert.Empty(browser.PageErrors());
    }

    /// <summary>Opens a page with no token stored in this browser, and waits for the dialog the 401 opens.</summary>
    private void OpenWithoutToken(string page)
    {
        browser.Driver.Navigate().GoToUrl($"{server.BaseUrl}/ui/");
        browser.Script("localStorage.clear()");
        browser.Driver.Navigate().Refresh();
        browser.Open(server.BaseUrl, page);
        browser.Wait(_ => IsDialogOpen());
    }

    private void SaveToken(string token)
    {
        if (!IsDialogOpen()) browser.Find("#token-button").Click();
        var input = browser.WaitFor("#token-input");
        input.Clear();
        input.SendKeys(token);
        browser.Find("#token-dialog button[value=save]").Click();
    }

    private bool IsDialogOpen() => Convert.ToBoolean(browser.Script("return document.getElementById('token-dialog').open"));

    /// <summary>Calls the server through the page's own api.js and returns <paramref name="select"/> of the answer (r), or the error.</summary>
    private string CallFromPage(string path, string select) =>
        Convert.ToString(((IJavaScriptExecutor)browser.Driver).ExecuteAsyncScript($$"""
            const done = arguments[arguments.length - 1];
            import('/ui/api.js').then(api => api.getJson('{{path}}')).then(r => done({{select}}), e => done('error ' + e.status + ': ' + e.message));
            """))!;
}
