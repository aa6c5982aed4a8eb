namespace Inference.Engine.Grammar.Checking;

/// <summary>Why <see cref="GbnfChecker"/> refused a grammar.</summary>
public enum GbnfProblem
{
    None,

    // llama.cpp refuses these too (llama_sampler_init_grammar returns null, which LLamaSharp then dereferences).

    /// <summary>Not GBNF: a bad escape, an unclosed literal, class or group, a missing <c>::=</c>...</summary>
    Syntax,
    /// <summary>A rule is referenced but never defined.</summary>
    UndefinedRule,
    /// <summary>The text defines no rule at all.</summary>
    NoRules,
    /// <summary>No rule named <c>root</c>.</summary>
    MissingRoot,
    /// <summary>A count in <c>{m}</c>, <c>{m,}</c> or <c>{m,n}</c> above llama.cpp's MAX_REPETITION_THRESHOLD (2000).</summary>
    RepetitionCount,
    /// <summary>Rules generated inside the repeated item times the count reach the threshold (llama.cpp's n_prev_rules check).</summary>
    RepetitionComplexity,
    /// <summary>A rule can reach itself without consuming text, through rules with an explicitly empty alternative.</summary>
    LeftRecursion,

    // Stricter than llama.cpp: it would accept these, then hang, abort or exhaust memory.

    /// <summary>Left recursion through rules that can match empty text without an empty alternative of their own
    /// (llama.cpp misses it and its stack expansion then grows without end).</summary>
    HiddenLeftRecursion,
    /// <summary><c>{m,n}</c> with n &lt; m: llama.cpp computes n - m unsigned and generates rules until memory runs out.</summary>
    ReversedRepetition,
    /// <summary>Token references (<c>&lt;...&gt;</c>, <c>!&lt;...&gt;</c>): their meaning depends on the vocabulary; never generated here.</summary>
    TokenReference,
    /// <summary>A NUL character or an empty text (llama.cpp would read a NUL as the end, and an empty text as no grammar).</summary>
    NulOrEmpty,
    /// <summary>Something reachable can never be completed: a rule with no finite match, or a character no token can produce.
    /// Sampling into it masks every token, and llama.cpp aborts when the next token does not fit.</summary>
    DeadEnd,
    /// <summary>Over the size bounds (text, rules, elements, nesting): compiling it would take too much memory or native stack.</summary>
    TooLarge,
    /// <summary>llama.cpp's left-recursion search (exponential in the worst case) or initial stack expansion would do too much work.</summary>
    TooComplex,
}

/// <summary>The checker's answer. <see cref="Problem"/> is <see cref="GbnfProblem.None"/> when the grammar is usable.</summary>
public sealed record GbnfVerdict(GbnfProblem Problem, string Message, int RuleCount = 0, long Elements = 0)
{
    public static GbnfVerdict Usable(int rules, long elements) => new(GbnfProblem.None, "usable", rules, elements);

    public bool IsUsable => Problem == GbnfProblem.None;

    /// <summary>The written rule the problem was found in, when there is one.</summary>
    public string? Rule { get; init; }

    /// <summary>Rules involved: for <see cref="GbnfProblem.DeadEnd"/>, every reachable rule that matches no finite text.</summary>
    public IReadOnlyList<string> Rules { get; init; } = [];

    /// <summary>
    /// Whether llama.cpp itself would refuse the grammar (return no sampler). For the other problems llama.cpp
    /// accepts the grammar and then fails later, so the checker is deliberately stricter there.
    /// </summary>
    public bool LlamaCppRefusesToo => Problem is GbnfProblem.Syntax or GbnfProblem.UndefinedRule or GbnfProblem.NoRules
        or GbnfProblem.MissingRoot or GbnfProblem.RepetitionCount or GbnfProblem.RepetitionComplexity or GbnfProblem.LeftRecursion;

    /// <summary>Problems of size or shape a schema can cause (rather than a bug in the code that wrote the grammar).</summary>
    public bool IsLimit => Problem is GbnfProblem.TooLarge or GbnfProblem.TooComplex;
}

/// <summary>A grammar the checker refused was about to reach llama.cpp. Its message says why.</summary>
public sealed class GrammarRejectedException(GbnfVerdict verdict)
    : Exception($"the grammar cannot be used with llama.cpp ({verdict.Problem}): {verdict.Message}")
{
    public GbnfVerdict Verdict { get; } = verdict;
}
