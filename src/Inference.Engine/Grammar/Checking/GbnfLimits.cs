namespace Inference.Engine.Grammar.Checking;

/// <summary>
/// Bounds on what a grammar may cost llama.cpp. Each sequence compiles its own copy of the grammar (about 8 bytes
/// per element, twice while initialising), its parser recurses once per nested group and its left-recursion
/// search once per rule on a leftmost path, on the scheduler's thread. The bounds sit far above what the schema
/// converter, the tool-call grammars and the SQL grammars produce (tens of thousands of elements at most).
/// </summary>
public static class GbnfLimits
{
    /// <summary>Length of the grammar text in UTF-16 characters.</summary>
    public const int MaxTextChars = 4_000_000;

    /// <summary>Elements after repetitions are expanded (about 16 MB of native memory per sequence).</summary>
    public const long MaxElements = 2_000_000;

    /// <summary>Symbols, including the rules llama.cpp generates for groups and repetitions.</summary>
    public const int MaxSymbols = 200_000;

    /// <summary>Nested parentheses (llama.cpp's parser recurses per level).</summary>
    public const int MaxNesting = 100;

    /// <summary>Rules on one leftmost path (llama.cpp's left-recursion search recurses per rule).</summary>
    public const int MaxLeftDepth = 1_000;

    /// <summary>Element visits of llama.cpp's left-recursion search, which re-walks shared sub-rules on every path.</summary>
    public const long MaxLeftRecursionWork = 20_000_000;

    /// <summary>Parse stacks llama.cpp builds before the first character (one per way the text may begin).</summary>
    public const int MaxInitialStacks = 10_000;

    /// <summary>Stack expansions llama.cpp performs to build those initial stacks.</summary>
    public const int MaxExpansionSteps = 500_000;
}
