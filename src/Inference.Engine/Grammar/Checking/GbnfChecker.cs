using System.Runtime.CompilerServices;

namespace Inference.Engine.Grammar.Checking;

/// <summary>
/// Decides, without calling native code, whether a GBNF grammar is safe to hand to llama.cpp. llama.cpp refuses
/// a bad grammar by returning no sampler, which LLamaSharp adds to the chain anyway (a SIGSEGV at the first
/// token); some grammars it accepts then hang or abort it. Every grammar passes this check before
/// <c>llama_sampler_init_grammar</c>: <see cref="Scheduling.SamplerFactory"/> calls <see cref="EnsureUsable"/>.
/// </summary>
/// <remarks>
/// What llama.cpp (as bundled with LLamaSharp 0.30.0) accepts, mirrored by <see cref="GbnfParser"/> and
/// <see cref="GbnfAnalysis"/>:
/// <list type="bullet">
/// <item>Text: rules <c>name ::= alternatives</c>, each ending at a newline or the end; names are [a-zA-Z0-9-]+;
/// <c>#</c> starts a comment; newlines are allowed after <c>|</c> and inside parentheses only. Escapes in
/// literals and classes: \xHH, \uHHHH, \UHHHHHHHH, \t \r \n \\ \" \[ \]; anything else after \ fails (\- too).</item>
/// <item>At least one rule, a rule named root, and every referenced rule defined.</item>
/// <item>Repetition: in <c>{m}</c>, <c>{m,}</c>, <c>{m,n}</c> neither m nor n may exceed 2000. And the item's
/// generated rules (1 for a literal, class or rule name; for a group, its own id plus every symbol first seen or
/// generated inside it) times the count (n, or m without n, or 1 for <c>*</c>) must stay below 2000; chained
/// repetitions multiply. So <c>x{1999}</c> passes, <c>x{2000}</c> and <c>x{0,2000}</c> fail, and
/// <c>("a" b){1000}</c> fails when b is first mentioned inside the group.</item>
/// <item>No left recursion, where a rule "may be empty" only if an alternative of it is written empty
/// (<c>x?</c> and <c>x*</c> generate such rules).</item>
/// </list>
/// Refused here although llama.cpp accepts them: left recursion through rules that derive empty text only
/// indirectly (llama.cpp's stack expansion then grows until memory runs out), <c>{m,n}</c> with n &lt; m (it
/// generates 2^64 rules), token references, NUL or empty text, dead ends (alternatives that can never be
/// completed), and the size and work bounds of <see cref="GbnfLimits"/>.
/// </remarks>
public static class GbnfChecker
{
    // Verdicts by string instance: the grammar a route checked is the same object the sampler checks again.
    private static readonly ConditionalWeakTable<string, GbnfVerdict> Verdicts = new();

    /// <summary>Checks <paramref name="grammar"/> with start rule <c>root</c>.</summary>
    public static GbnfVerdict Check(string grammar)
    {
        if (Verdicts.TryGetValue(grammar, out var known)) return known;
        var verdict = Evaluate(grammar);
        Verdicts.AddOrUpdate(grammar, verdict);
        return verdict;
    }

    /// <summary>Throws <see cref="GrammarRejectedException"/> unless the grammar is usable.</summary>
    public static void EnsureUsable(string grammar)
    {
        var verdict = Check(grammar);
        if (!verdict.IsUsable) throw new GrammarRejectedException(verdict);
    }

    private static GbnfVerdict Evaluate(string grammar)
    {
        if (grammar.Length == 0) return new(GbnfProblem.NulOrEmpty, "the grammar is empty");
        if (grammar.Contains('\0')) return new(GbnfProblem.NulOrEmpty, "the grammar contains a NUL character");
        if (grammar.Length > GbnfLimits.MaxTextChars)
            return new(GbnfProblem.TooLarge, $"the grammar text is longer than {GbnfLimits.MaxTextChars} characters");
        GbnfProgram? program = null;
        try
        {
            program = GbnfParser.Parse(grammar, "root");
            GbnfAnalysis.Run(program);
            return GbnfVerdict.Usable(program.Rules.Count, program.Elements);
        }
        catch (GbnfCheckException ex)
        {
            return new(ex.Problem, ex.Message, program?.Rules.Count ?? 0, program?.Elements ?? 0) { Rule = ex.Rule, Rules = ex.Rules ?? [] };
        }
    }
}
