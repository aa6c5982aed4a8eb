using Inference.Engine.Grammar.Checking;

namespace Inference.Server.Http;

/// <summary>
/// A request's own GBNF grammar (top-level <c>grammar</c>, as llama-server and vLLM take it), on Ollama's and
/// OpenAI's generation routes. It reaches llama.cpp only after <see cref="GbnfChecker"/> passes it: llama.cpp
/// crashes, hangs or aborts on some grammars it cannot refuse by itself, and one native abort ends every user's request.
/// </summary>
public static class RawGrammar
{
    /// <summary>
    /// The grammar to sample with, or null when the request has none. <paramref name="conflicts"/> names the
    /// request's other output constraints that are set (format, response_format, tools): a grammar replaces
    /// them, so asking for both is an error rather than a silent choice.
    /// </summary>
    public static bool TryRead(string? grammar, IEnumerable<string> conflicts, out string? gbnf, out string? error)
    {
        gbnf = error = null;
        if (grammar is null) return true;
        if (conflicts.FirstOrDefault() is { } other)
        {
            error = $"grammar cannot be combined with {other}: use one or the other";
            return false;
        }
        var verdict = GbnfChecker.Check(grammar);
        if (!verdict.IsUsable)
        {
            error = $"invalid grammar ({Name(verdict.Problem)}): {verdict.Message}";
            return false;
        }
        gbnf = grammar;
        return true;
    }

    /// <summary>The other constraints a request set, named as the request names them.</summary>
    public static IEnumerable<string> Set(params (string Field, bool IsSet)[] fields) =>
        fields.Where(f => f.IsSet).Select(f => f.Field);

    private static string Name(GbnfProblem problem) => problem switch
    {
        GbnfProblem.Syntax => "syntax error",
        GbnfProblem.UndefinedRule => "undefined rule",
        GbnfProblem.NoRules => "no rules",
        GbnfProblem.MissingRoot => "no root rule",
        GbnfProblem.RepetitionCount or GbnfProblem.RepetitionComplexity or GbnfProblem.ReversedRepetition => "repetition",
        GbnfProblem.LeftRecursion or GbnfProblem.HiddenLeftRecursion => "left recursion",
        GbnfProblem.TokenReference => "token reference",
        GbnfProblem.NulOrEmpty => "empty",
        GbnfProblem.DeadEnd => "dead end",
        GbnfProblem.TooLarge => "too large",
        GbnfProblem.TooComplex => "too complex",
        _ => problem.ToString(),
    };
}
