namespace Inference.Engine.Grammar.Checking;

/// <summary>
/// The checks that run on a compiled grammar. First llama.cpp's own (left recursion as
/// <c>llama_grammar_detect_left_recursion</c> sees it), then the ones it lacks, each guarding a way an accepted
/// grammar still hangs or aborts llama.cpp: left recursion through rules that only derive empty text, dead ends,
/// an exponential left-recursion search, too many initial parse stacks.
/// </summary>
internal sealed class GbnfAnalysis
{
    private readonly GbnfProgram _program;
    private readonly IReadOnlyList<GbnfElement[]> _rules;

    private GbnfAnalysis(GbnfProgram program)
    {
        _program = program;
        _rules = program.Rules;
    }

    /// <summary>Throws <see cref="GbnfCheckException"/> for the first problem found.</summary>
    public static void Run(GbnfProgram program)
    {
        var analysis = new GbnfAnalysis(program);

        // llama.cpp: a rule "may be empty" only if one of its alternatives is written empty.
        var writtenEmpty = analysis._rules.Select(HasEmptyAlternative).ToArray();
        var leftEdges = analysis.LeftEdges(writtenEmpty);
        if (FindCycle(leftEdges) is { } cycle)
            throw new GbnfCheckException(GbnfProblem.LeftRecursion,
                $"left recursion: rule '{program.NameOf(cycle)}' can reach itself without consuming text", program.WrittenName(cycle));

        if (program.UsesTokens)
            throw new GbnfCheckException(GbnfProblem.TokenReference, "token references (<...>) are not allowed");

        var derivesEmpty = analysis.Fixpoint(alternativePossible: alt => alt.All(e => e.Type == GbnfElementType.RuleRef));
        if (FindCycle(analysis.LeftEdges(derivesEmpty)) is { } hidden)
            throw new GbnfCheckException(GbnfProblem.HiddenLeftRecursion,
                $"left recursion: rule '{program.NameOf(hidden)}' can reach itself through rules that match empty text", program.WrittenName(hidden));

        analysis.CheckLeftSearchCost(leftEdges);
        analysis.CheckNoDeadEnds();
        analysis.CheckInitialStacks();
    }

    /// <summary>llama.cpp's first pass: an alternative with no elements (END or ALT right at an alternative's start).</summary>
    private static bool HasEmptyAlternative(GbnfElement[] rule)
    {
        bool atStart = true;
        foreach (var element in rule)
        {
            if (element.IsEndOfAlternative)
            {
                if (atStart) return true;
                atStart = true;
            }
            else
            {
                atStart = false;
            }
        }
        return false;
    }

    /// <summary>
    /// For each rule, the rules it references at a leftmost position (once per occurrence, as llama.cpp recurses
    /// once per occurrence): the first element of an alternative, or one after references that may be empty.
    /// </summary>
    private List<uint>[] LeftEdges(bool[] mayBeEmpty)
    {
        var edges = new List<uint>[_rules.Count];
        for (int i = 0; i < _rules.Count; i++)
        {
            edges[i] = [];
            bool leftmost = true;
            foreach (var element in _rules[i])
            {
                if (element.Type == GbnfElementType.RuleRef && leftmost)
                {
                    edges[i].Add(element.Value);
                    if (!mayBeEmpty[element.Value]) leftmost = false;
                }
                else
                {
                    leftmost = element.IsEndOfAlternative;
                }
            }
        }
        return edges;
    }

    /// <summary>A rule on a cycle of the graph, or null (iterative depth-first search: grammars can be deep).</summary>
    private static uint? FindCycle(List<uint>[] edges)
    {
        var state = new byte[edges.Length]; // 0 new, 1 on the current path, 2 done
        var stack = new Stack<(uint Node, int Next)>();
        for (uint start = 0; start < edges.Length; start++)
        {
            if (state[start] != 0) continue;
            stack.Push((start, 0));
            state[start] = 1;
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                if (next < edges[node].Count)
                {
                    stack.Push((node, next + 1));
                    uint target = edges[node][next];
                    if (state[target] == 1) return target;
                    if (state[target] == 0)
                    {
                        state[target] = 1;
                        stack.Push((target, 0));
                    }
                }
                else
                {
                    state[node] = 2;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Rules for which some alternative satisfies a property that holds when all its references do (a least
    /// fixpoint, linear in the grammar's size): "derives empty text" or "derives some finite text".
    /// </summary>
    private bool[] Fixpoint(Func<ArraySegment<GbnfElement>, bool> alternativePossible)
    {
        var holds = new bool[_rules.Count];
        var pending = new List<int>();           // per alternative: references not yet known to hold
        var owner = new List<uint>();            // per alternative: its rule
        var occurrences = new List<int>[_rules.Count]; // per rule: alternatives that reference it, once per reference
        for (int i = 0; i < _rules.Count; i++) occurrences[i] = [];
        var ready = new Queue<uint>();

        for (int i = 0; i < _rules.Count; i++)
        {
            foreach (var alt in Alternatives(_rules[i]))
            {
                if (!alternativePossible(alt)) continue;
                int id = pending.Count;
                int references = 0;
                foreach (var element in alt)
                {
                    if (element.Type != GbnfElementType.RuleRef) continue;
                    occurrences[element.Value].Add(id);
                    references++;
                }
                pending.Add(references);
                owner.Add((uint)i);
                if (references == 0 && !holds[i])
                {
                    holds[i] = true;
                    ready.Enqueue((uint)i);
                }
            }
        }
        while (ready.Count > 0)
        {
            foreach (var alt in occurrences[ready.Dequeue()])
            {
                if (--pending[alt] != 0 || holds[owner[alt]]) continue;
                holds[owner[alt]] = true;
                ready.Enqueue(owner[alt]);
            }
        }
        return holds;
    }

    private static IEnumerable<ArraySegment<GbnfElement>> Alternatives(GbnfElement[] rule)
    {
        int start = 0;
        for (int i = 0; i < rule.Length; i++)
        {
            if (!rule[i].IsEndOfAlternative) continue;
            yield return new ArraySegment<GbnfElement>(rule, start, i - start);
            start = i + 1;
        }
    }

    /// <summary>
    /// llama.cpp's left-recursion search does not remember rules it already cleared while on a path, so its work is
    /// the number of leftmost paths (exponential for chains like <c>a ::= b | b</c>, <c>b ::= c | c</c>, ...), and
    /// it recurses natively once per rule on a path. Both are bounded here, computed over the acyclic graph.
    /// </summary>
    private void CheckLeftSearchCost(List<uint>[] edges)
    {
        int n = _rules.Count;
        var cost = new long[n];
        var depth = new int[n];
        foreach (uint node in PostOrder(edges))
        {
            long c = 2L * _rules[(int)node].Length;
            int d = 0;
            foreach (uint target in edges[node])
            {
                c = Math.Min(c + cost[target], long.MaxValue / 4);
                d = Math.Max(d, depth[target]);
            }
            cost[node] = c;
            depth[node] = d + 1;
            if (depth[node] > GbnfLimits.MaxLeftDepth)
                throw new GbnfCheckException(GbnfProblem.TooLarge,
                    $"more than {GbnfLimits.MaxLeftDepth} rules on one leftmost path (from rule '{_program.NameOf(node)}')");
        }

        // The outer loop starts a search from each rule not yet cleared; a search clears every rule it enters.
        var cleared = new bool[n];
        long total = 0;
        var queue = new Queue<uint>();
        for (uint start = 0; start < n; start++)
        {
            if (cleared[start]) continue;
            total += cost[start];
            if (total > GbnfLimits.MaxLeftRecursionWork)
                throw new GbnfCheckException(GbnfProblem.TooComplex,
                    $"llama.cpp's left-recursion search would visit more than {GbnfLimits.MaxLeftRecursionWork} elements (rules like '{_program.NameOf(start)}' are reached along too many leftmost paths)");
            cleared[start] = true;
            queue.Enqueue(start);
            while (queue.Count > 0)
            {
                foreach (uint target in edges[queue.Dequeue()])
                {
                    if (cleared[target]) continue;
                    cleared[target] = true;
                    queue.Enqueue(target);
                }
            }
        }
    }

    /// <summary>Nodes of an acyclic graph, each after all its successors.</summary>
    private static List<uint> PostOrder(List<uint>[] edges)
    {
        var order = new List<uint>(edges.Length);
        var state = new byte[edges.Length];
        var stack = new Stack<(uint Node, int Next)>();
        for (uint start = 0; start < edges.Length; start++)
        {
            if (state[start] != 0) continue;
            stack.Push((start, 0));
            state[start] = 1;
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                if (next < edges[node].Count)
                {
                    stack.Push((node, next + 1));
                    uint target = edges[node][next];
                    if (state[target] != 0) continue;
                    state[target] = 1;
                    stack.Push((target, 0));
                }
                else
                {
                    order.Add(node);
                }
            }
        }
        return order;
    }

    /// <summary>
    /// Every alternative of every rule reachable from the root must be completable: all its references derive some
    /// finite text and each character it requires is one a token can produce. Otherwise a sampled prefix can lead
    /// where every token is masked; llama.cpp then samples a masked token anyway and aborts on accepting it.
    /// (The vocabulary is assumed to reach every byte, as byte-fallback and byte-level vocabularies do; llama.cpp
    /// masks tokens whose text starts with NUL, so U+0000 is never producible.)
    /// </summary>
    private void CheckNoDeadEnds()
    {
        var productive = Fixpoint(alt => TerminalsPossible(alt));
        var reachable = new bool[_rules.Count];
        var order = new List<uint> { _program.Root };
        reachable[_program.Root] = true;
        uint? trap = null;
        for (int i = 0; i < order.Count; i++)
        {
            uint rule = order[i];
            foreach (var alt in Alternatives(_rules[(int)rule]))
            {
                bool completable = TerminalsPossible(alt);
                foreach (var element in alt)
                {
                    if (element.Type != GbnfElementType.RuleRef) continue;
                    if (!productive[element.Value]) completable = false;
                    if (reachable[element.Value]) continue;
                    reachable[element.Value] = true;
                    order.Add(element.Value);
                }
                if (!completable) trap ??= rule;
            }
        }
        if (trap is not { } at) return;
        var endless = order.Where(r => !productive[r]).Select(_program.WrittenName).Distinct().ToList();
        throw new GbnfCheckException(GbnfProblem.DeadEnd,
            $"rule '{_program.NameOf(at)}' has an alternative that can never be completed (it needs a rule that matches no finite text, or a character no token produces)",
            _program.WrittenName(at), endless);
    }

    /// <summary>Whether each character class or literal character in the alternative matches some producible code point.</summary>
    private static bool TerminalsPossible(ArraySegment<GbnfElement> alt)
    {
        for (int i = 0; i < alt.Count; i++)
        {
            var element = alt[i];
            if (element.Type is not (GbnfElementType.Char or GbnfElementType.CharNot)) continue;
            var ranges = new List<(uint Low, uint High)>();
            int j = i;
            do
            {
                uint low = alt[j].Value, high = low;
                if (j + 1 < alt.Count && alt[j + 1].Type == GbnfElementType.CharRangeUpper)
                {
                    high = alt[j + 1].Value;
                    j++;
                }
                ranges.Add((low, high));
                j++;
            } while (j < alt.Count && alt[j].Type == GbnfElementType.CharAlt);
            if (!ClassPossible(element.Type == GbnfElementType.CharNot, ranges)) return false;
            i = j - 1;
        }
        return true;
    }

    /// <summary>The largest value llama.cpp's UTF-8 decoder yields (4 bytes, the first of them 0xFF).</summary>
    private const uint MaxDecodable = 0x3FFFFF;

    private static bool ClassPossible(bool negated, List<(uint Low, uint High)> ranges)
    {
        if (!negated) return ranges.Any(r => r.Low <= r.High && r.High >= 1 && r.Low <= MaxDecodable);
        // Negated: possible unless the ranges cover every producible value 1..MaxDecodable.
        uint next = 1;
        foreach (var (low, high) in ranges.Where(r => r.Low <= r.High).OrderBy(r => r.Low))
        {
            if (low > next) return true;
            if (high >= next) next = high == uint.MaxValue ? uint.MaxValue : high + 1;
            if (next > MaxDecodable) return false;
        }
        return next <= MaxDecodable;
    }

    /// <summary>
    /// llama.cpp's stack expansion from the root's alternatives, as <c>llama_grammar_init_impl</c> runs it: every
    /// way the text may begin becomes one stack, and ambiguous nestings multiply them.
    /// </summary>
    private void CheckInitialStacks() =>
        new GbnfMatcher(_program, GbnfLimits.MaxExpansionSteps).Start(GbnfLimits.MaxInitialStacks);
}
