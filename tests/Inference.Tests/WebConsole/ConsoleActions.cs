namespace Inference.Tests.WebConsole;

/// <summary>What the page tests do as a user would: open a page with a token, choose in a select; and what they check.</summary>
public static class ConsoleActions
{
    private const string StorageKey = "inference.console.token";

    /// <summary>Opens <paramref name="page"/> with <paramref name="token"/> stored for the server's origin (none when null), loaded afresh.</summary>
    public static void OpenWithToken(this ConsoleBrowser browser, string baseUrl, string page, string? token)
    {
        browser.Open(baseUrl, page);
        if (token is null) browser.Script($"localStorage.removeItem('{StorageKey}')");
        else browser.Script($"localStorage.setItem('{StorageKey}', arguments[0])", token);
        browser.Driver.Navigate().Refresh();
        browser.Open(baseUrl, page);
    }

    /// <summary>How many requests the page made to <paramref name="path"/> since it loaded (the browser's own resource timing).</summary>
    public static long RequestsTo(this ConsoleBrowser browser, string path) => Convert.ToInt64(browser.Script(
        "return performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname === arguments[0]).length", path));

    /// <summary>Whether the shell's token dialog is open.</summary>
    public static bool TokenDialogOpen(this ConsoleBrowser browser) =>
        true.Equals(browser.Script("return document.getElementById('token-dialog').open"));

    /// <summary>Chooses <paramref name="value"/> in a select once that option exists (lists arrive from the server), firing change as a user's choice does.</summary>
    public static void Choose(this ConsoleBrowser browser, string select, string value) =>
        browser.Wait(_ => true.Equals(browser.Script(
            "const s = document.querySelector(arguments[0]); if (![...s.options].some(o => o.value === arguments[1])) return false;"
            + "s.value = arguments[1]; s.dispatchEvent(new Event('change')); return true;", select, value)));

    /// <summary>How far the page is wider than the viewport (0 or less: no horizontal scroll).</summary>
    public static long Overflow(this ConsoleBrowser browser) =>
        Convert.ToInt64(browser.Script("return document.documentElement.scrollWidth - window.innerWidth"));
}
