using System.Runtime.CompilerServices;
using System.Text;
using Inference.Engine.Grammar.Checking;

namespace Inference.Engine.Grammar.Completion;

/// <summary>
/// The shortest text (in UTF-8 bytes) that finishes a grammar from any parse stack of <see cref="GbnfMatcher"/>.
/// Computed once per grammar as a shortest derivation: a fixed point over the rules, where a rule costs its
/// cheapest alternative and an alternative the sum of its items (a character class costs the one character
/// picked for it, a rule reference that rule's cost). A stack (positions, top last) is finished by the text
/// from each position to the end of its alternative, top to bottom, so its cost is a sum of table entries.
/// </summary>
/// <remarks>
/// Works on the compiled GBNF, so every grammar gets it whoever built it: schemas, format "json", tool calls,
/// the SQL assistant. Byte length stands in for token count (a token is at least one byte); the scheduler
/// tokenizes only when that bound is not enough.
/// </remarks>
internal sealed class ShortestCompletion
{
    private const long Unreachable = long.MaxValue / 4;

    // Tables by grammar string instance: the route's grammar string is the one each slot sees again.
    private static readonly ConditionalWeakTable<string, ShortestCompletion> Cache = new();

    private readonly GbnfMatcher _matcher;
    private readonly GbnfElement[] _flat;
    /// <summary>Bytes from a position (an item start or an alternative's end) to the end of its alternative.</summary>
    private readonly long[] _cost;
    /// <summary>The position after the item starting here (a class spans several elements).</summary>
    private readonly int[] _next;
    /// <summary>The character picked for the class starting here.</summary>
    private readonly Rune[] _char;
    private readonly long[] _ruleCost;
    /// <summary>Where each rule's cheapest alternative begins.</summary>
    private readonly int[] _ruleBest;

    private ShortestCompletion(GbnfProgram program)
    {
        _matcher = new GbnfMatcher(program);
        _flat = _matcher.Elements.ToArray();
        _cost = new long[_flat.Length];
        _next = new int[_flat.Length];
        _char = new Rune[_flat.Length];
        _topMasks = new TopMask?[_flat.Length];
        int rules = program.Rules.Count;
        _ruleCost = new long[rules];
        _ruleBest = new int[rules];
        Array.Fill(_ruleCost, Unreachable);
        Array.Fill(_cost, Unreachable);

        // Every alternative as its item starts, so each round walks them backwards.
        var alternatives = new List<(int Rule, int Start, int End, int[] Items)>();
        for (int r = 0; r < rules; r++)
        {
            int pos = _matcher.RuleStart((uint)r);
            while (true)
            {
                int start = pos;
                var items = new List<int>();
                while (!_flat[pos].IsEndOfAlternative)
                {
                    items.Add(pos);
                    pos = _next[pos] = Skip(pos);
                    if (_flat[items[^1]].Type is GbnfElementType.Char or GbnfElementType.CharNot or GbnfElementType.CharAny)
                        _char[items[^1]] = Pick(items[^1]);
                }
                _cost[pos] = 0;
                alternatives.Add((r, start, pos, [.. items]));
                if (_flat[pos].Type != GbnfElementType.Alt) break;
                pos++;
            }
        }

        // Bellman-Ford style: costs only fall, and a rule changes its best alternative only for a strictly
        // cheaper one, so the chosen derivations never loop.
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var (rule, start, end, items) in alternatives)
            {
                long after = 0;
                for (int i = items.Length - 1; i >= 0; i--)
                {
                    int p = items[i];
                    long item = _flat[p].Type switch
                    {
                        GbnfElementType.RuleRef => _ruleCost[_flat[p].Value],
                        GbnfElementType.Token => Unreachable,
                        _ => _char[p].Utf8SequenceLength,
                    };
                    after = Math.Min(Unreachable, item + after);
                    _cost[p] = after;
                }
                if (after < _ruleCost[rule])
                {
                    _ruleCost[rule] = after;
                    _ruleBest[rule] = start;
                    changed = true;
                }
            }
        }
    }

    public GbnfMatcher Matcher => _matcher;

    /// <summary>The table for <paramref name="grammar"/> (root rule "root"), built once per grammar string.</summary>
    public static ShortestCompletion For(string grammar) =>
        Cache.GetValue(grammar, g => new ShortestCompletion(GbnfParser.Parse(g, "root")));

    /// <summary>Bytes of the shortest text that finishes <paramref name="stack"/>.</summary>
    public long CostOf(int[] stack)
    {
        long total = 0;
        foreach (int p in stack) total = Math.Min(Unreachable, total + _cost[p]);
        return total;
    }

    /// <summary>The stack with the cheapest completion and its cost in bytes (Unreachable-sized when none can finish).</summary>
    public (int[]? Stack, long Bytes) Best(HashSet<int[]> stacks)
    {
        int[]? best = null;
        long cost = Unreachable;
        foreach (var stack in stacks)
        {
            long c = CostOf(stack);
            if (c < cost)
            {
                cost = c;
                best = stack;
            }
        }
        return (best, cost);
    }

    /// <summary>The characters that may come next from <paramref name="stacks"/> (see <see cref="FirstCharacters"/>).</summary>
    public FirstCharacters FirstOf(HashSet<int[]> stacks, bool lookPastSpace = true)
    {
        var first = FirstOfTops(stacks);
        if (!lookPastSpace || !first.MayStartWith((short)' ')) return first;
        var afterSpace = _matcher.Accept(stacks, (uint)' ');
        return new FirstCharacters(first.Ascii, first.NonAscii, FirstOfTops(afterSpace));
    }

    private FirstCharacters FirstOfTops(HashSet<int[]> stacks)
    {
        ulong lo = 0, hi = 0;
        bool all = false, some = false;
        foreach (var stack in stacks)
        {
            if (stack.Length == 0) continue;
            int top = stack[^1];
            if (_flat[top].Type is not (GbnfElementType.Char or GbnfElementType.CharNot or GbnfElementType.CharAny)) return new FirstCharacters(Everything, NonAsciiFirst.All);
            var mask = _topMasks[top] ??= MaskOf(top);
            lo |= mask.Lo;
            hi |= mask.Hi;
            switch (mask.NonAscii)
            {
                case NonAsciiFirst.All: all = true; break;
                case NonAsciiFirst.Some: some = true; break;
            }
        }
        var ascii = new bool[128];
        for (int c = 0; c < 64; c++)
        {
            ascii[c] = (lo >> c & 1) != 0;
            ascii[c + 64] = (hi >> c & 1) != 0;
        }
        return new FirstCharacters(ascii, all ? NonAsciiFirst.All : some ? NonAsciiFirst.Some : NonAsciiFirst.None);
    }

    /// <summary>What the class at one position allows first: ASCII as two bit masks, and how much beyond ASCII.</summary>
    private sealed record TopMask(ulong Lo, ulong Hi, NonAsciiFirst NonAscii);

    // Per element position, filled on first use: the same class tops recur at every step. Written without a lock:
    // a race computes the same value twice and stores one reference, which is atomic.
    private readonly TopMask?[] _topMasks;

    private TopMask MaskOf(int top)
    {
        ulong lo = 0, hi = 0;
        for (int c = 0; c < 64; c++)
        {
            if (Allows(top, (uint)c)) lo |= 1UL << c;
            if (Allows(top, (uint)c + 64)) hi |= 1UL << c;
        }
        return new TopMask(lo, hi, NonAsciiOf(top));
    }

    private static readonly bool[] Everything = Enumerable.Repeat(true, 128).ToArray();

    /// <summary>Whether the class at <paramref name="pos"/> allows every, no, or some characters from U+0080 on.</summary>
    private NonAsciiFirst NonAsciiOf(int pos)
    {
        if (_flat[pos].Type == GbnfElementType.CharAny) return NonAsciiFirst.All;
        bool negated = _flat[pos].Type == GbnfElementType.CharNot;
        bool touches = false;
        do
        {
            if (_flat[pos + 1].Type == GbnfElementType.CharRangeUpper)
            {
                touches |= _flat[pos + 1].Value >= 0x80;
                pos += 2;
            }
            else
            {
                touches |= _flat[pos].Type == GbnfElementType.CharAny || _flat[pos].Value >= 0x80;
                pos += 1;
            }
        } while (_flat[pos].Type == GbnfElementType.CharAlt);
        if (touches) return NonAsciiFirst.Some;
        return negated ? NonAsciiFirst.All : NonAsciiFirst.None;
    }

    /// <summary>The shortest completion's text for one stack (top of stack first).</summary>
    public string TextOf(int[] stack)
    {
        var text = new StringBuilder();
        for (int i = stack.Length - 1; i >= 0; i--) AppendFrom(stack[i], text);
        return text.ToString();
    }

    /// <summary>Appends the shortest text from a position to the end of its alternative, expanding rule references.</summary>
    private void AppendFrom(int start, StringBuilder text)
    {
        // An explicit stack of positions still to expand: shortest derivations can be deep (nested repetitions).
        var todo = new Stack<int>();
        todo.Push(start);
        while (todo.Count > 0)
        {
            int p = todo.Pop();
            if (_flat[p].IsEndOfAlternative) continue;
            todo.Push(_next[p]);
            if (_flat[p].Type == GbnfElementType.RuleRef) todo.Push(_ruleBest[_flat[p].Value]);
            else text.Append(_char[p].ToString());
        }
    }

    /// <summary>The position after the item at <paramref name="pos"/>.</summary>
    private int Skip(int pos)
    {
        if (_flat[pos].Type is GbnfElementType.RuleRef or GbnfElementType.Token) return pos + 1;
        do
        {
            pos += _flat[pos + 1].Type == GbnfElementType.CharRangeUpper ? 2 : 1;
        } while (_flat[pos].Type == GbnfElementType.CharAlt);
        return pos;
    }

    /// <summary>
    /// A character the class at <paramref name="pos"/> allows: a plain one when it can ('a', '0', ' ', as a model
    /// would write), else the first listed one, else (for a negated class) the first allowed code point.
    /// </summary>
    private Rune Pick(int pos)
    {
        foreach (uint c in new uint[] { 'a', '0', ' ', 'x', 'A', '1' })
            if (Allows(pos, c)) return new Rune(c);
        if (_flat[pos].Type == GbnfElementType.Char && Rune.IsValid(_flat[pos].Value) && Allows(pos, _flat[pos].Value)) return new Rune(_flat[pos].Value);
        for (uint c = 0x20; c < 0x110000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            if (Allows(pos, c)) return new Rune(c);
        }
        for (uint c = 1; c < 0x20; c++)
            if (Allows(pos, c)) return new Rune(c);
        // A class that allows nothing: the grammar checker refuses dead ends, so this is never reached from a usable grammar.
        return new Rune('?');
    }

    /// <summary>llama_grammar_match_char for the class at <paramref name="pos"/>.</summary>
    private bool Allows(int pos, uint chr) => _matcher.Allows(pos, chr);
}
