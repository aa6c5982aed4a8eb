using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Inference.Tests.WebConsole;

/// <summary>
/// One headless Chromium from Debian's packages (chromium, chromium-driver; scripts/test.sh installs
/// them), driven through Selenium with Debian's chromedriver: nothing is downloaded. Shared by every
/// browser test (the "browser" collection), which run one at a time. A missing browser fails the run.
/// </summary>
public sealed class ConsoleBrowser : IDisposable
{
    public const string Collection = "browser";
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string DriverDirectory = "/usr/bin";

    public ChromeDriver Driver { get; }

    /// <summary>Screenshots land under the test output (bin/…/console-screenshots) for a person to look at.</summary>
    public static string ScreenshotDirectory { get; } =
        Environment.GetEnvironmentVariable("INFERENCE_TEST_SCREENSHOTS") is { Length: > 0 } dir ? dir
            : Path.Combine(AppContext.BaseDirectory, "console-screenshots");

    public ConsoleBrowser()
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(Path.Combine(DriverDirectory, "chromedriver")))
            throw new InvalidOperationException(
                "the browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; scripts/test.sh does this)");
        var service = ChromeDriverService.CreateDefaultService(DriverDirectory, "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-extensions", "--disable-background-networking", "--window-size=1280,800");
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(90));
        Desktop();
    }

    /// <summary>The 1280×800 desktop viewport the issue names.</summary>
    public void Desktop() => Viewport(1280, 800, mobile: false);

    /// <summary>A 390-px-wide phone (iPhone 12–15 size), with touch-style mobile emulation.</summary>
    public void Phone() => Viewport(390, 844, mobile: true);

    private void Viewport(int width, int height, bool mobile) =>
        Driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = mobile,
        });

    /// <summary>Opens a console page (chat, sql, code, models, dashboard) and waits until it mounted.</summary>
    public void Open(string baseUrl, string page)
    {
        Driver.Navigate().GoToUrl($"{baseUrl}/ui/#/{page}");
        Wait(d => true.Equals(((IJavaScriptExecutor)d).ExecuteScript(
            $"return document.getElementById('page')?.dataset.page === '{page}' && document.getElementById('page').childElementCount > 0")));
    }

    public IWebElement Find(string css) => Driver.FindElement(By.CssSelector(css));

    public IReadOnlyList<IWebElement> FindAll(string css) => Driver.FindElements(By.CssSelector(css));

    /// <summary>Waits for an element that is displayed.</summary>
    public IWebElement WaitFor(string css, int seconds = 30) =>
        Wait(d => d.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed), seconds);

    public T Wait<T>(Func<IWebDriver, T?> condition, int seconds = 30)
    {
        var wait = new WebDriverWait(Driver, TimeSpan.FromSeconds(seconds)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition)!;
    }

    public object? Script(string script, params object[] args) => Driver.ExecuteScript(script, args);

    /// <summary>Uncaught errors and rejections the page recorded (app.js keeps them in window.__consoleErrors).</summary>
    public IReadOnlyList<string> PageErrors() =>
        (Script("return window.__consoleErrors || []") as IEnumerable<object> ?? []).Select(e => e?.ToString() ?? "").ToList();

    /// <summary>Saves a PNG of the viewport as console-screenshots/{name}.png and returns its path.</summary>
    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}

/// <summary>Browser tests share one Chromium and run alone, so a page's timing never competes with another test's load.</summary>
[CollectionDefinition(ConsoleBrowser.Collection, DisableParallelization = true)]
public sealed class ConsoleBrowserCollection : ICollectionFixture<ConsoleBrowser>;
