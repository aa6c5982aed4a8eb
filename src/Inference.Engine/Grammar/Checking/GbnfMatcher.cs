namespace Inference.Engine.Grammar.Checking;

/// <summary>
/// llama.cpp's grammar matching in managed code: parse stacks (<c>llama_grammar_advance_stack</c>) and
/// accepting one code point at a time (<c>llama_grammar_accept</c>, <c>llama_grammar_match_char</c>). The
/// checker uses it to bound the stacks llama.cpp builds at initialisation; tests use it to prove what a
/// converted grammar accepts and how many stacks llama.cpp keeps while following it.
/// </summary>
internal sealed class GbnfMatcher
{
    private readonly GbnfElement[] _flat;
    private readonly int[] _offsets;
    private readonly int _root;
    private readonly int _maxSteps;
    private int _steps;

    /// <param name="maxSteps">Stack expansions allowed over the matcher's life; past it, <see cref="GbnfCheckException"/>.</param>
    public GbnfMatcher(GbnfProgram program, int maxSteps = int.MaxValue)
    {
        // Positions index all rules laid end to end, standing in for llama.cpp's element pointers.
        _offsets = new int[program.Rules.Count];
        int total = 0;
        for (int i = 0; i < program.Rules.Count; i++)
        {
            _offsets[i] = total;
            total += program.Rules[i].Length;
        }
        _flat = new GbnfElement[total];
        for (int i = 0; i < program.Rules.Count; i++) program.Rules[i].CopyTo(_flat, _offsets[i]);
        _root = _offsets[program.Root];
        _maxSteps = maxSteps;
    }

    /// <summary>Every rule's elements laid end to end: stack entries are positions in it (for the shortest completions).</summary>
    internal ReadOnlySpan<GbnfElement> Elements => _flat;

    /// <summary>Where rule <paramref name="rule"/> begins in <see cref="Elements"/>.</summary>
    internal int RuleStart(uint rule) => _offsets[rule];

    /// <summary>The stacks before any text, one per alternative of the root after expansion (llama_grammar_init_impl).</summary>
    public HashSet<int[]> Start(int maxStacks = int.MaxValue)
    {
        var stacks = NewSet();
        int pos = _root;
        while (true)
        {
            Advance(_flat[pos].IsEndOfAlternative ? [] : [pos], stacks, maxStacks);
            while (!_flat[pos].IsEndOfAlternative) pos++;
            if (_flat[pos].Type != GbnfElementType.Alt) break;
            pos++;
        }
        return stacks;
    }

    /// <summary>The stacks after one more code point; empty when the text cannot continue with it.</summary>
    public HashSet<int[]> Accept(HashSet<int[]> stacks, uint codePoint)
    {
        var next = NewSet();
        foreach (var stack in stacks)
        {
            if (stack.Length == 0) continue;
            int pos = stack[^1];
            if (_flat[pos].Type == GbnfElementType.Token) continue;
            var (matched, after) = MatchChar(pos, codePoint);
            if (!matched) continue;
            var rest = new List<int>(stack.Length);
            rest.AddRange(stack.AsSpan(0, stack.Length - 1));
            if (!_flat[after].IsEndOfAlternative) rest.Add(after);
            Advance([.. rest], next, int.MaxValue);
        }
        return next;
    }

    /// <summary>Whether the text so far is a complete match (an empty stack: llama.cpp then allows end of generation).</summary>
    public static bool IsComplete(HashSet<int[]> stacks) => stacks.Any(s => s.Length == 0);

    /// <summary>Whether <paramref name="text"/> is matched completely, and the most stacks held at any point.</summary>
    public (bool Complete, int MaxStacks) Match(string text)
    {
        var stacks = Start();
        int most = stacks.Count;
        foreach (var rune in text.EnumerateRunes())
        {
            stacks = Accept(stacks, (uint)rune.Value);
            if (stacks.Count == 0) return (false, most);
            most = Math.Max(most, stacks.Count);
        }
        return (IsComplete(stacks), most);
    }

    private void Advance(int[] stack, HashSet<int[]> into, int maxStacks)
    {
        var todo = new Stack<int[]>([stack]);
        var seen = NewSet();
        while (todo.Count > 0)
        {
            if (++_steps > _maxSteps)
                throw new GbnfCheckException(GbnfProblem.TooComplex, $"building llama.cpp's parse stacks takes more than {_maxSteps} steps");
            var current = todo.Pop();
            if (!seen.Add(current)) continue;
            if (current.Length == 0 || _flat[current[^1]].Type != GbnfElementType.RuleRef)
            {
                into.Add(current);
                if (into.Count > maxStacks)
                    throw new GbnfCheckException(GbnfProblem.TooComplex, $"more than {maxStacks} ways for the text to begin (an ambiguous grammar)");
                continue;
            }
            int at = current[^1];
            int sub = _offsets[_flat[at].Value];
            while (true)
            {
                var next = new List<int>(current.Length + 1);
                next.AddRange(current.AsSpan(0, current.Length - 1));
                if (!_flat[at + 1].IsEndOfAlternative) next.Add(at + 1);
                if (!_flat[sub].IsEndOfAlternative) next.Add(sub);
                todo.Push([.. next]);
                while (!_flat[sub].IsEndOfAlternative) sub++;
                if (_flat[sub].Type != GbnfElementType.Alt) break;
                sub++;
            }
        }
    }

    /// <summary>Whether the character class at element position <paramref name="pos"/> allows <paramref name="chr"/>.</summary>
    internal bool Allows(int pos, uint chr) => MatchChar(pos, chr).Matched;

    /// <summary>llama_grammar_match_char: the class at <paramref name="pos"/> against one code point, and the position after the class.</summary>
    private (bool Matched, int After) MatchChar(int pos, uint chr)
    {
        bool positive = _flat[pos].Type is GbnfElementType.Char or GbnfElementType.CharAny;
        bool found = false;
        do
        {
            if (_flat[pos + 1].Type == GbnfElementType.CharRangeUpper)
            {
                found = found || (_flat[pos].Value <= chr && chr <= _flat[pos + 1].Value);
                pos += 2;
            }
            else if (_flat[pos].Type == GbnfElementType.CharAny)
            {
                found = true;
                pos += 1;
            }
            else
            {
                found = found || _flat[pos].Value == chr;
                pos += 1;
            }
        } while (_flat[pos].Type == GbnfElementType.CharAlt);
        return (found == positive, pos);
    }

    private static HashSet<int[]> NewSet() => new(StackComparer.Instance);

    private sealed class StackComparer : IEqualityComparer<int[]>
    {
        public static readonly StackComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] stack)
        {
            var hash = new HashCode();
            foreach (int p in stack) hash.Add(p);
            return hash.ToHashCode();
        }
    }
}
