namespace Inference.Engine.Grammar.Checking;

/// <summary>llama.cpp's <c>llama_gretype</c>, minus the token elements (the checker refuses token syntax).</summary>
internal enum GbnfElementType : byte
{
    End,
    Alt,
    RuleRef,
    Char,
    CharNot,
    CharRangeUpper,
    CharAlt,
    CharAny,
    /// <summary>A token reference; parsed only so that llama.cpp's own checks can run before the checker refuses it.</summary>
    Token,
}

/// <summary>One element of a compiled rule, as llama.cpp stores it (<c>llama_grammar_element</c>).</summary>
internal readonly record struct GbnfElement(GbnfElementType Type, uint Value)
{
    public bool IsEndOfAlternative => Type is GbnfElementType.End or GbnfElementType.Alt;
}

/// <summary>
/// A grammar compiled the way llama.cpp's parser compiles it: rule i's elements (alternatives separated by
/// Alt, closed by End) and the symbol names, ids in the order llama.cpp assigns them. Repetitions are already
/// expanded into the helper rules llama.cpp generates, so sizes and shapes are the ones it will hold in memory.
/// </summary>
internal sealed class GbnfProgram(IReadOnlyList<GbnfElement[]> rules, IReadOnlyList<string> names, uint root, long elements, bool usesTokens)
{
    public IReadOnlyList<GbnfElement[]> Rules { get; } = rules;

    /// <summary>Symbol names by id (generated helper rules are named like llama.cpp's, e.g. <c>root_7</c>).</summary>
    public IReadOnlyList<string> Names { get; } = names;

    public uint Root { get; } = root;

    /// <summary>Elements over all rules: llama.cpp keeps about 8 bytes per element, twice while it initialises.</summary>
    public long Elements { get; } = elements;

    /// <summary>Whether the text uses token references (<c>&lt;...&gt;</c>).</summary>
    public bool UsesTokens { get; } = usesTokens;

    public string NameOf(uint id) => id < Names.Count ? Names[(int)id] : $"#{id}";

    /// <summary>The written rule a symbol belongs to: generated names are the rule's name, '_' and a number.</summary>
    public string WrittenName(uint id) => NameOf(id).Split('_')[0];
}
