using System.Diagnostics;
using Inference.Tests.Support;

namespace Inference.Tests.WebConsole;

/// <summary>
/// The console has no build step; TypeScript's checker (tests/console, installed by scripts/test.sh) reads
/// its JSDoc types instead: `tsc --noEmit -p src/Inference.Server/WebConsole/jsconfig.json`.
/// </summary>
public sealed class ConsoleTypeCheckTests
{
    private static string Console => Path.Combine(TestModels.RepoRoot(), "src", "Inference.Server", "WebConsole");
    private static string WebRoot => Path.Combine(Console, "wwwroot");

    [Fact]
    public async Task Every_console_module_passes_the_type_checker()
    {
        var (exitCode, output) = await TscAsync(Path.Combine(Console, "jsconfig.json"));
        Assert.True(exitCode == 0, output);
        Assert.Equal("", output.Trim());
    }

    /// <summary>The config only checks files that opt in, so every one must.</summary>
    [Fact]
    public void Every_console_module_opts_in_to_checking()
    {
        var modules = Directory.GetFiles(WebRoot, "*.js", SearchOption.AllDirectories);
        Assert.Contains(modules, m => m.EndsWith("app.js", StringComparison.Ordinal));
        Assert.All(modules, m => Assert.StartsWith("// @ts-check", File.ReadAllText(m)));
    }

    /// <summary>The check can fail: a page calling a shell helper with the wrong type is reported, file and line.</summary>
    [Fact]
    public async Task A_wrong_call_into_the_shell_is_a_type_error()
    {
        using var temp = new TempDirectory();
        var ui = Path.Combine(WebRoot, "ui.js").Replace('\\', '/');
        File.WriteAllText(temp.Combine("page.js"), $"// @ts-check\nimport {{ formatBytes }} from '{ui}';\nexport const size = formatBytes('12');\n");
        File.WriteAllText(temp.Combine("jsconfig.json"), $$"""
            { "extends": "{{Path.Combine(Console, "jsconfig.json").Replace('\\', '/')}}", "include": ["page.js"] }
            """);
        var (exitCode, output) = await TscAsync(temp.Combine("jsconfig.json"));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("page.js(3,33): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.", output);
    }

    private static async Task<(int ExitCode, string Output)> TscAsync(string project)
    {
        var package = Path.Combine(TestModels.RepoRoot(), "tests", "console");
        var tsc = Path.Combine(package, "node_modules", "typescript", "bin", "tsc");
        Assert.True(File.Exists(tsc), "run scripts/test.sh (it installs tests/console with npm ci)");
        var psi = new ProcessStartInfo("node", [tsc, "--noEmit", "--pretty", "false", "-p", project])
        {
            WorkingDirectory = package, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var node = Process.Start(psi)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        Assert.True(node.WaitForExit(TimeSpan.FromMinutes(2)), "tsc timed out");
        return (node.ExitCode, await stdout + await stderr);
    }
}
