using System.Globalization;
using System.Text;

namespace Inference.Engine.Grammar;

/// <summary>
/// JSON Schema "pattern" (an ECMAScript regex) as the GBNF of the JSON string it allows. The subset is what
/// llama.cpp's <c>_visit_pattern</c> (common/json-schema-to-grammar.cpp, MIT) converts, parsed into a small tree
/// first: literals and escapes, classes (ranges, negation, \d \w \s and their negations), <c>.</c>, groups
/// (capturing, non-capturing, named), alternation, <c>? * + {m} {m,} {m,n}</c> (lazy forms count the same), and
/// anchors <c>^</c>/<c>$</c> at the ends of the pattern or of a top-level alternative. Beyond llama.cpp, an
/// unanchored side matches anything there (a regex matches anywhere in the string), and characters are written as
/// JSON text: a <c>"</c>, <c>\</c> or control character the regex allows is written as its JSON escape.
/// Anything else (lookaround, backreferences, word boundaries, \p{..}, flags) makes <see cref="TryParse"/> fail;
/// the caller then ignores the pattern, as llama.cpp warns and goes on.
/// </summary>
internal static class PatternConverter
{
    /// <summary>Counts above this in {m,n} are not converted (the pattern is ignored).</summary>
    public const int MaxCount = 100_000;

    /// <summary>Copies allowed beyond the minimum when an unbounded repetition's item can match the empty string.</summary>
    public const int NullableRepeatCap = 8;

    /// <summary>Patterns longer than this are ignored unparsed: real ones are a few hundred characters, and the tree costs memory per character.</summary>
    public const int MaxPatternLength = 16_384;

    /// <summary>Groups nested deeper than this are outside the subset: the parser and emitter recurse once per level.</summary>
    public const int MaxGroupNesting = 64;

    /// <summary>Parses the pattern into a tree, or null when it is outside the subset.</summary>
    public static Node? TryParse(string pattern)
    {
        if (pattern.Length > MaxPatternLength) return null;
        try
        {
            var parser = new Parser(pattern);
            return parser.ParseTop();
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The GBNF for the string's contents (between the quotes), adding rules for repeated parts.</summary>
    public static string Emit(GbnfRules rules, Node node, string hint) => new Emitter(rules, hint).Emit(node);

    /// <summary>A regex tree: every node knows the lengths (in characters) of what it matches.</summary>
    public abstract record Node
    {
        public abstract int MinLength { get; }

        /// <summary>Null: unbounded.</summary>
        public abstract long? MaxLength { get; }
    }

    /// <summary>One character from a set of code-point ranges (sorted, disjoint, no surrogates).</summary>
    public sealed record CharSet(IReadOnlyList<(int From, int To)> Ranges) : Node
    {
        public override int MinLength => 1;
        public override long? MaxLength => 1;
    }

    // Lengths are worked out once, when a node is built from its (already built) children: asking the children
    // again at every use would cost twice per nesting level. Lengths beyond MaxCounted count as unbounded.
    public sealed record Sequence(IReadOnlyList<Node> Items) : Node
    {
        public override int MinLength { get; } = (int)Math.Min(int.MaxValue, Items.Sum(i => (long)i.MinLength));
        public override long? MaxLength { get; } = Items.Any(i => i.MaxLength is null) ? null : Counted(Items.Sum(i => i.MaxLength!.Value));
    }

    public sealed record Alternation(IReadOnlyList<Node> Options) : Node
    {
        public override int MinLength { get; } = Options.Min(o => o.MinLength);
        public override long? MaxLength { get; } = Options.Any(o => o.MaxLength is null) ? null : Options.Max(o => o.MaxLength!.Value);
    }

    /// <summary>Min..Max (null = unbounded) copies.</summary>
    public sealed record Repeat(Node Item, int Min, int? Max) : Node
    {
        public override int MinLength { get; } = (int)Math.Min(int.MaxValue, (long)Item.MinLength * Min);
        public override long? MaxLength { get; } = Max is null ? (Item.MaxLength == 0 ? 0 : null) : Counted(Item.MaxLength * Max);
    }

    private const long MaxCounted = 1L << 40;

    private static long? Counted(long? length) => length is { } n && n <= MaxCounted ? n : null;

    /// <summary>
    /// The tree limited to strings of <paramref name="min"/>..<paramref name="max"/> characters where that is exact:
    /// the tree already fits, or (per top-level alternative) all of it has a fixed length except one repetition of a
    /// fixed-length item, whose count is then narrowed. Null when the lengths cannot be combined this way.
    /// </summary>
    public static Node? WithLength(Node node, int min, int? max)
    {
        if (node.MinLength >= min && (max is null || node.MaxLength <= max)) return node;
        if (node is Alternation alternation)
        {
            var options = new List<Node>();
            foreach (var option in alternation.Options)
            {
                var narrowed = WithLength(option, min, max);
                if (narrowed is null) return null;
                if (narrowed is not Alternation { Options.Count: 0 }) options.Add(narrowed);
            }
            return new Alternation(options);
        }
        var items = node is Sequence s ? s.Items : [node];
        var variable = items.Where(i => i.MaxLength is null || i.MinLength != i.MaxLength).ToList();
        if (variable.Count != 1 || variable[0] is not Repeat repeat || repeat.Item.MaxLength is not { } width
            || width != repeat.Item.MinLength || width == 0) return null;
        long fixedLength = items.Where(i => i != repeat).Sum(i => (long)i.MinLength);
        long lowCount = Math.Max(repeat.Min, (long)Math.Ceiling((min - fixedLength) / (double)width));
        long? highCount = max is { } m ? (m - fixedLength) / width : null;
        if (repeat.Max is { } rm) highCount = highCount is { } h ? Math.Min(h, rm) : rm;
        // No string of the pattern has an allowed length: an empty alternation (matches nothing).
        if (highCount < lowCount || highCount < 0) return new Alternation([]);
        var narrowedRepeat = new Repeat(repeat.Item, (int)lowCount, (int?)highCount);
        return new Sequence(items.Select(i => i == repeat ? narrowedRepeat : i).ToList());
    }

    private sealed class Parser(string pattern)
    {
        private int _pos;
        private int _depth;

        public Node ParseTop()
        {
            // Top-level alternatives are anchored (or not) each on their own.
            var options = new List<Node>();
            while (true)
            {
                bool anchoredStart = Eat('^');
                var body = ParseSequence(topLevel: true, out bool anchoredEnd);
                var parts = new List<Node>();
                if (!anchoredStart) parts.Add(AnyString);
                parts.Add(body);
                if (!anchoredEnd) parts.Add(AnyString);
                options.Add(parts.Count == 1 ? parts[0] : new Sequence(parts));
                if (_pos == pattern.Length) break;
                if (!Eat('|')) throw new FormatException("unbalanced parenthesis");
            }
            return options.Count == 1 ? options[0] : new Alternation(options);
        }

        private Node ParseAlternation()
        {
            var options = new List<Node> { ParseSequence(topLevel: false, out _) };
            while (Eat('|')) options.Add(ParseSequence(topLevel: false, out _));
            return options.Count == 1 ? options[0] : new Alternation(options);
        }

        private Node ParseSequence(bool topLevel, out bool anchoredEnd)
        {
            anchoredEnd = false;
            var items = new List<Node>();
            while (_pos < pattern.Length && pattern[_pos] is not ('|' or ')'))
            {
                if (pattern[_pos] == '$')
                {
                    _pos++;
                    // $ ends the pattern or a top-level alternative; anywhere else it is not converted.
                    if (!topLevel || (_pos < pattern.Length && pattern[_pos] != '|')) throw new FormatException("$ inside the pattern");
                    anchoredEnd = true;
                    break;
                }
                var atom = ParseAtom();
                items.Add(ParseQuantifier(atom));
            }
            if (topLevel && _pos < pattern.Length && pattern[_pos] == ')') throw new FormatException("unbalanced parenthesis");
            return items.Count == 1 ? items[0] : new Sequence(items);
        }

        private Node ParseQuantifier(Node atom)
        {
            if (_pos >= pattern.Length) return atom;
            int min;
            int? max;
            char c = pattern[_pos];
            if (c == '*') { min = 0; max = null; _pos++; }
            else if (c == '+') { min = 1; max = null; _pos++; }
            else if (c == '?') { min = 0; max = 1; _pos++; }
            else if (c == '{' && TryCounts(out min, out max)) { }
            else return atom;
            Eat('?'); // lazy: matches the same strings
            // A second quantifier ("a**") is a syntax error in ECMAScript: ParseAtom refuses it next.
            return new Repeat(atom, min, max);
        }

        /// <summary>{m}, {m,} or {m,n} at the current position; otherwise '{' is a literal (as ECMAScript's Annex B reads it).</summary>
        private bool TryCounts(out int min, out int? max)
        {
            min = 0;
            max = null;
            int close = pattern.IndexOf('}', _pos);
            if (close < 0) return false;
            var inside = pattern[(_pos + 1)..close];
            var parts = inside.Split(',');
            if (parts.Length > 2 || parts[0].Length == 0 || !parts.All(p => p.All(char.IsAsciiDigit))) return false;
            if (!int.TryParse(parts[0], CultureInfo.InvariantCulture, out min) || min > MaxCount) throw new FormatException("count too large");
            if (parts.Length == 1) max = min;
            else if (parts[1].Length > 0)
            {
                if (!int.TryParse(parts[1], CultureInfo.InvariantCulture, out var m) || m > MaxCount) throw new FormatException("count too large");
                if (m < min) throw new FormatException("reversed count");
                max = m;
            }
            _pos = close + 1;
            return true;
        }

        private Node ParseAtom()
        {
            char c = pattern[_pos++];
            switch (c)
            {
                case '(':
                    if (Eat('?'))
                    {
                        if (Eat(':')) { }
                        else if (_pos < pattern.Length && pattern[_pos] == '<' && _pos + 1 < pattern.Length && pattern[_pos + 1] is not ('=' or '!'))
                        {
                            int close = pattern.IndexOf('>', _pos);
                            if (close < 0) throw new FormatException("bad group name");
                            _pos = close + 1; // a named group matches like any group
                        }
                        else throw new FormatException("lookaround or flags");
                    }
                    if (++_depth > MaxGroupNesting) throw new FormatException("groups nested too deep");
                    var inner = ParseAlternation();
                    _depth--;
                    if (!Eat(')')) throw new FormatException("unbalanced parenthesis");
                    return inner;
                case '[':
                    return ParseClass();
                case '.':
                    return Dot;
                case '\\':
                    return ParseEscape(inClass: false) ?? throw new FormatException("escape");
                case '^':
                    throw new FormatException("^ inside the pattern");
                case '*' or '+' or '?':
                    throw new FormatException("nothing to repeat");
                default:
                    return Single(ReadCodePoint(c));
            }
        }

        /// <summary>A character that may be the first half of a surrogate pair: the whole code point.</summary>
        private int ReadCodePoint(char c)
        {
            if (char.IsHighSurrogate(c) && _pos < pattern.Length && char.IsLowSurrogate(pattern[_pos]))
                return char.ConvertToUtf32(c, pattern[_pos++]);
            if (char.IsSurrogate(c)) throw new FormatException("lone surrogate");
            return c;
        }

        private CharSet ParseClass()
        {
            bool negated = Eat('^');
            var ranges = new List<(int, int)>();
            while (true)
            {
                if (_pos >= pattern.Length) throw new FormatException("unterminated class");
                char c = pattern[_pos];
                // ECMAScript: ']' always closes, so [] matches nothing and [^] anything.
                if (c == ']') { _pos++; break; }
                _pos++;
                int from;
                if (c == '\\')
                {
                    var escaped = ParseEscape(inClass: true) ?? throw new FormatException("escape");
                    if (escaped.Ranges.Count != 1 || escaped.Ranges[0].From != escaped.Ranges[0].To)
                    {
                        ranges.AddRange(escaped.Ranges);
                        continue;
                    }
                    from = escaped.Ranges[0].From;
                }
                else from = ReadCodePoint(c);
                int to = from;
                if (_pos + 1 < pattern.Length && pattern[_pos] == '-' && pattern[_pos + 1] != ']')
                {
                    _pos++;
                    char d = pattern[_pos++];
                    if (d == '\\')
                    {
                        var escaped = ParseEscape(inClass: true) ?? throw new FormatException("escape");
                        if (escaped.Ranges.Count != 1 || escaped.Ranges[0].From != escaped.Ranges[0].To) throw new FormatException("class range");
                        to = escaped.Ranges[0].From;
                    }
                    else to = ReadCodePoint(d);
                    if (to < from) throw new FormatException("reversed class range");
                }
                ranges.Add((from, to));
            }
            var set = Normalize(ranges);
            return new CharSet(negated ? Complement(set) : set);
        }

        /// <summary>After a backslash: a class escape, a control escape or an escaped literal; null for what is not converted.</summary>
        private CharSet? ParseEscape(bool inClass)
        {
            if (_pos >= pattern.Length) return null;
            char c = pattern[_pos++];
            switch (c)
            {
                case 'd': return Digit;
                case 'D': return new CharSet(Complement(Digit.Ranges));
                case 'w': return Word;
                case 'W': return new CharSet(Complement(Word.Ranges));
                case 's': return Space;
                case 'S': return new CharSet(Complement(Space.Ranges));
                case 't': return Single('\t');
                case 'n': return Single('\n');
                case 'r': return Single('\r');
                case 'f': return Single('\f');
                case 'v': return Single('\v');
                case '0' when _pos >= pattern.Length || !char.IsAsciiDigit(pattern[_pos]): return Single(0);
                case 'b' when inClass: return Single('\b');
                case 'x': return Single(Hex(2));
                case 'u': return Single(Hex(4));
                case '-' when inClass: return Single('-');
                default:
                    // Escaped punctuation is itself; letters and digits not listed above (\b, \B, \1, \k, \p, \c...) are not converted.
                    if (char.IsAsciiLetterOrDigit(c)) return null;
                    return Single(ReadCodePoint(c));
            }
        }

        private int Hex(int digits)
        {
            if (_pos + digits > pattern.Length) throw new FormatException("short hex escape");
            var text = pattern.Substring(_pos, digits);
            if (!int.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)) throw new FormatException("bad hex escape");
            _pos += digits;
            if (value is >= 0xD800 and <= 0xDFFF) throw new FormatException("surrogate escape");
            return value;
        }

        private bool Eat(char c)
        {
            if (_pos < pattern.Length && pattern[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }
    }

    private const int MaxCodePoint = 0x10FFFF;

    private static CharSet Single(int codePoint) => new([(codePoint, codePoint)]);

    private static readonly CharSet Digit = new([('0', '9')]);
    private static readonly CharSet Word = new(Normalize([('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')]));

    // ECMAScript's \s: white space and line terminators.
    private static readonly CharSet Space = new(Normalize([
        ('\t', '\r'), (' ', ' '), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029),
        (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]));

    // '.': anything but a line terminator (no "s" flag in JSON Schema patterns).
    private static readonly CharSet Dot = new(Complement(Normalize([('\n', '\n'), ('\r', '\r'), (0x2028, 0x2029)])));

    /// <summary>What an unanchored end allows: any string.</summary>
    private static readonly Node AnyString = new Repeat(new CharSet(Complement([])), 0, null);

    /// <summary>Sorted, merged ranges without surrogates (they cannot appear in UTF-8 text).</summary>
    private static List<(int From, int To)> Normalize(IEnumerable<(int From, int To)> ranges)
    {
        var result = new List<(int From, int To)>();
        foreach (var (from, to) in ranges.SelectMany(SplitSurrogates).OrderBy(r => r.From))
        {
            if (result.Count > 0 && from <= result[^1].To + 1) result[^1] = (result[^1].From, Math.Max(result[^1].To, to));
            else result.Add((from, to));
        }
        return result;
    }

    private static IEnumerable<(int From, int To)> SplitSurrogates((int From, int To) range)
    {
        if (range.To < 0xD800 || range.From > 0xDFFF) { yield return range; yield break; }
        if (range.From < 0xD800) yield return (range.From, 0xD7FF);
        if (range.To > 0xDFFF) yield return (0xE000, range.To);
    }

    private static List<(int From, int To)> Complement(IReadOnlyList<(int From, int To)> ranges)
    {
        var result = new List<(int, int)>();
        int next = 0;
        foreach (var (from, to) in Normalize(ranges))
        {
            if (from > next) result.Add((next, from - 1));
            next = to + 1;
        }
        if (next <= MaxCodePoint) result.Add((next, MaxCodePoint));
        return Normalize(result);
    }

    private sealed class Emitter(GbnfRules rules, string hint)
    {
        public string Emit(Node node) => node switch
        {
            _ when ReferenceEquals(node, AnyString) => rules.Primitive("char") + "*",
            CharSet set => CharSetExpr(set),
            Sequence sequence => EmitSequence(sequence.Items),
            Alternation { Options.Count: 0 } => throw new FormatException("empty alternation"),
            Alternation alternation => "(" + string.Join(" | ", alternation.Options.Select(o => Emit(o) is { Length: > 0 } e ? e : "\"\"")) + ")",
            Repeat repeat => EmitRepeat(repeat),
            _ => throw new InvalidOperationException(node.GetType().Name),
        };

        private string EmitSequence(IReadOnlyList<Node> items)
        {
            // Runs of single characters become one literal, as llama.cpp joins consecutive literals.
            var parts = new List<string>();
            var literal = new StringBuilder();
            foreach (var item in items)
            {
                if (item is CharSet { Ranges: [var (from, to)] } && from == to)
                {
                    literal.Append(char.ConvertFromUtf32(from));
                    continue;
                }
                Flush();
                var expr = Emit(item);
                if (expr.Length > 0) parts.Add(expr);
            }
            Flush();
            return string.Join(" ", parts);

            void Flush()
            {
                if (literal.Length == 0) return;
                parts.Add(JsonLiteral(literal.ToString()));
                literal.Clear();
            }
        }

        private string EmitRepeat(Repeat repeat)
        {
            var inner = Emit(repeat.Item);
            if (inner.Length == 0 || repeat.Max == 0) return "";
            var item = rules.Named(hint + "-item", inner);
            // An unbounded repetition of something that can match nothing ("(a*)*", "(b?)+") would be left
            // recursion in GBNF; a few copies already match every string it does when the item is itself unbounded,
            // and a subset of them otherwise.
            var max = repeat.Max ?? (repeat.Item.MinLength == 0 ? repeat.Min + NullableRepeatCap : null);
            var counted = GbnfRepetition.Of(rules, item, repeat.Min, max);
            return counted.Contains(' ', StringComparison.Ordinal) || counted.Contains('|', StringComparison.Ordinal) ? $"({counted})" : counted;
        }

        /// <summary>
        /// One decoded character from the set, as JSON text: the set's characters that JSON writes as themselves in
        /// one class, and '"', '\' and control characters (when in the set) as their escapes.
        /// </summary>
        private string CharSetExpr(CharSet set)
        {
            var alternatives = new List<string>();
            var raw = new List<(int From, int To)>();
            foreach (var (from, to) in set.Ranges)
            {
                // Of the control characters only tab, newline and carriage return are generated (as \t \n \r): enough
                // for any text a model writes, and a class like [^a] does not grow 30 escape alternatives.
                foreach (var control in new[] { '\t', '\n', '\r' })
                {
                    if (from <= control && control <= to) alternatives.Add(JsonLiteral(control.ToString()));
                }
                int start = Math.Max(from, 0x20);
                foreach (var special in new[] { '"', '\\' })
                {
                    if (start <= special && special <= to)
                    {
                        alternatives.Add(JsonLiteral(special.ToString()));
                        if (start < special) raw.Add((start, special - 1));
                        start = special + 1;
                    }
                }
                if (start <= to) raw.Add((start, to));
            }
            if (raw.Count > 0) alternatives.Insert(0, "[" + string.Concat(raw.Select(r => r.From == r.To ? GbnfRules.ClassChar(r.From) : GbnfRules.ClassChar(r.From) + "-" + GbnfRules.ClassChar(r.To))) + "]");
            if (alternatives.Count == 0) throw new FormatException("empty class");
            return alternatives.Count == 1 ? alternatives[0] : rules.Named(hint + "-class", string.Join(" | ", alternatives));
        }

        /// <summary>The GBNF literal for the JSON text of <paramref name="text"/> (without the surrounding quotes).</summary>
        private static string JsonLiteral(string text)
        {
            var json = SchemaConverter.JsonString(text);
            return GbnfRules.Literal(json[1..^1]);
        }
    }
}
