using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Inference.Tests.Support;

/// <summary>Runs one of the unmodified client-library scripts in tests/compat with Node and parses its JSON summary.</summary>
public static class CompatClient
{
    public static async Task<JsonNode> RunAsync(string script, string package, IReadOnlyDictionary<string, string> environment)
    {
        var compat = Path.Combine(TestModels.RepoRoot(), "tests", "compat");
        Assert.True(Directory.Exists(Path.Combine(compat, "node_modules", package)), "run scripts/test.sh (it installs tests/compat)");
        var psi = new ProcessStartInfo("node", script) { WorkingDirectory = compat, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment) psi.Environment[key] = value;
        using var node = Process.Start(psi)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        Assert.True(node.WaitForExit(TimeSpan.FromMinutes(2)), $"{script} timed out");
        Assert.True(node.ExitCode == 0, await stderr);
        return JsonNode.Parse(await stdout)!;
    }
}
