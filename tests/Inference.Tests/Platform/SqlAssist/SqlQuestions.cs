using Inference.Tests.Support;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// Natural-language requests against tenant_acme (users, products, orders, order_items), as users of the
/// platform ask them: the same file the Inference.SqlAssistCheck tool sends to a running server.
/// </summary>
public static class SqlQuestions
{
    public static readonly IReadOnlyList<string> Acme = File
        .ReadLines(Path.Combine(TestModels.RepoRoot(), "benchmarks", "Inference.SqlAssistCheck", "questions-acme.txt"))
        .Select(l => l.Trim())
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .ToList();
}
