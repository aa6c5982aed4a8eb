using System.Text;

namespace Inference.Engine.Grammar.Checking;

/// <summary>A refusal found while compiling; carries its problem class.</summary>
internal sealed class GbnfCheckException(GbnfProblem problem, string message, string? rule = null, IReadOnlyList<string>? rules = null)
    : Exception(message)
{
    public GbnfProblem Problem { get; } = problem;

    /// <summary>The rule the problem was found in, when there is one (a written name, not a generated one).</summary>
    public string? Rule { get; } = rule;

    /// <summary>Other rules involved (for a dead end: every reachable rule that matches no finite text).</summary>
    public IReadOnlyList<string>? Rules { get; } = rules;
}

/// <summary>
/// A managed copy of llama.cpp's grammar parser (<c>llama_grammar_parser</c> in src/llama-grammar.cpp, as
/// built into LLamaSharp 0.30.0), step for step: the same whitespace and comment rules, escapes, symbol ids,
/// and the same expansion of <c>*</c>, <c>+</c>, <c>?</c> and <c>{m,n}</c> into generated rules, so that its
/// verdicts, its repetition checks (which depend on how many symbols a repeated group generated) and its
/// element counts are llama.cpp's. Differences, all refusals llama.cpp does not make: token references,
/// reversed counts <c>{n,m}</c> with m &lt; n, and the size bounds of <see cref="GbnfLimits"/>.
/// </summary>
/// <remarks>
/// llama.cpp reads a NUL-terminated UTF-8 string; the text is encoded the same way (with a trailing 0) so
/// every index comparison below matches its pointer arithmetic.
/// </remarks>
internal sealed class GbnfParser
{
    /// <summary>llama.cpp's MAX_REPETITION_THRESHOLD.</summary>
    internal const ulong RepetitionThreshold = 2000;
    private const ulong NoMax = ulong.MaxValue;

    private readonly byte[] _src;
    private readonly Dictionary<string, uint> _symbolIds = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<List<GbnfElement>?> _rules = [];
    private long _elements;
    private int _nesting;
    private bool _usesTokens;

    private GbnfParser(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        _src = new byte[bytes.Length + 1];
        bytes.CopyTo(_src, 0);
    }

    /// <summary>Compiles <paramref name="text"/> or throws <see cref="GbnfCheckException"/> where llama.cpp's parse() would fail.</summary>
    public static GbnfProgram Parse(string text, string root)
    {
        var parser = new GbnfParser(text);
        parser.ParseAll();
        if (parser._rules.Count == 0) throw new GbnfCheckException(GbnfProblem.NoRules, "the grammar defines no rules");
        if (!parser._symbolIds.TryGetValue(root, out var rootId))
            throw new GbnfCheckException(GbnfProblem.MissingRoot, $"the grammar has no '{root}' rule");
        var rules = parser._rules.Select(r => r!.ToArray()).ToList();
        return new GbnfProgram(rules, parser._names, rootId, parser._elements, parser._usesTokens);
    }

    private void ParseAll()
    {
        int pos = ParseSpace(0, true);
        while (_src[pos] != 0) pos = ParseRule(pos);
        // llama.cpp's validation: every id below the highest defined one, and every reference, must be defined.
        for (int i = 0; i < _rules.Count; i++)
        {
            if (_rules[i] is not { Count: > 0 } rule)
                throw new GbnfCheckException(GbnfProblem.UndefinedRule, $"undefined rule '{_names[i]}'");
            foreach (var element in rule)
            {
                if (element.Type == GbnfElementType.RuleRef && (element.Value >= _rules.Count || _rules[(int)element.Value] is null))
                    throw new GbnfCheckException(GbnfProblem.UndefinedRule, $"undefined rule '{_names[(int)element.Value]}'");
            }
        }
    }

    private int ParseRule(int pos)
    {
        int nameEnd = ParseName(pos);
        string name = Ascii(pos, nameEnd);
        pos = ParseSpace(nameEnd, false);
        uint id = GetSymbolId(name);
        if (!(_src[pos] == ':' && _src[pos + 1] == ':' && _src[pos + 2] == '='))
            throw Syntax("expecting ::=", pos);
        pos = ParseSpace(pos + 3, true);
        pos = ParseAlternates(pos, name, id, false);
        if (_src[pos] == '\r') pos += _src[pos + 1] == '\n' ? 2 : 1;
        else if (_src[pos] == '\n') pos++;
        else if (_src[pos] != 0) throw Syntax("expecting newline or end", pos);
        return ParseSpace(pos, true);
    }

    private int ParseAlternates(int pos, string ruleName, uint ruleId, bool nested)
    {
        var rule = new List<GbnfElement>();
        pos = ParseSequence(pos, ruleName, rule, nested);
        while (_src[pos] == '|')
        {
            Push(rule, GbnfElementType.Alt, 0);
            pos = ParseSpace(pos + 1, true);
            pos = ParseSequence(pos, ruleName, rule, nested);
        }
        Push(rule, GbnfElementType.End, 0);
        AddRule(ruleId, rule);
        return pos;
    }

    private int ParseSequence(int pos, string ruleName, List<GbnfElement> rule, bool nested)
    {
        int lastSymStart = rule.Count;
        ulong prevRules = 1;
        while (_src[pos] != 0)
        {
            byte c = _src[pos];
            if (c == '"')
            {
                pos++;
                lastSymStart = rule.Count;
                prevRules = 1;
                while (_src[pos] != '"')
                {
                    if (_src[pos] == 0) throw Syntax("unexpected end of input", pos);
                    (uint value, pos) = ParseChar(pos);
                    Push(rule, GbnfElementType.Char, value);
                }
                pos = ParseSpace(pos + 1, nested);
            }
            else if (c == '[')
            {
                pos++;
                var startType = GbnfElementType.Char;
                if (_src[pos] == '^')
                {
                    pos++;
                    startType = GbnfElementType.CharNot;
                }
                lastSymStart = rule.Count;
                prevRules = 1;
                while (_src[pos] != ']')
                {
                    if (_src[pos] == 0) throw Syntax("unexpected end of input", pos);
                    (uint value, pos) = ParseChar(pos);
                    Push(rule, lastSymStart < rule.Count ? GbnfElementType.CharAlt : startType, value);
                    if (_src[pos] == '-' && _src[pos + 1] != ']')
                    {
                        if (_src[pos + 1] == 0) throw Syntax("unexpected end of input", pos);
                        (uint upper, pos) = ParseChar(pos + 1);
                        Push(rule, GbnfElementType.CharRangeUpper, upper);
                    }
                }
                pos = ParseSpace(pos + 1, nested);
            }
            else if (c == '<' || c == '!')
            {
                int end = SkipToken(c == '!' ? pos + 1 : pos);
                lastSymStart = rule.Count;
                prevRules = 1;
                Push(rule, GbnfElementType.Token, 0);
                _usesTokens = true;
                pos = ParseSpace(end, nested);
            }
            else if (IsWordChar(c))
            {
                int nameEnd = ParseName(pos);
                uint id = GetSymbolId(Ascii(pos, nameEnd));
                pos = ParseSpace(nameEnd, nested);
                lastSymStart = rule.Count;
                prevRules = 1;
                Push(rule, GbnfElementType.RuleRef, id);
            }
            else if (c == '(')
            {
                pos = ParseSpace(pos + 1, true);
                uint before = (uint)_names.Count;
                uint subId = GenerateSymbolId(ruleName);
                if (++_nesting > GbnfLimits.MaxNesting)
                    throw new GbnfCheckException(GbnfProblem.TooLarge, $"groups nested more than {GbnfLimits.MaxNesting} deep");
                pos = ParseAlternates(pos, ruleName, subId, true);
                _nesting--;
                // The group's own id plus every symbol first seen or generated inside it (llama.cpp's n_prev_rules).
                prevRules = Math.Max(1u, (uint)_names.Count - before);
                lastSymStart = rule.Count;
                Push(rule, GbnfElementType.RuleRef, subId);
                if (_src[pos] != ')') throw Syntax("expecting ')'", pos);
                pos = ParseSpace(pos + 1, nested);
            }
            else if (c == '.')
            {
                lastSymStart = rule.Count;
                prevRules = 1;
                Push(rule, GbnfElementType.CharAny, 0);
                pos = ParseSpace(pos + 1, nested);
            }
            else if (c == '*')
            {
                pos = ParseSpace(pos + 1, nested);
                Repeat(rule, ruleName, lastSymStart, ref prevRules, 0, NoMax, pos);
            }
            else if (c == '+')
            {
                pos = ParseSpace(pos + 1, nested);
                Repeat(rule, ruleName, lastSymStart, ref prevRules, 1, NoMax, pos);
            }
            else if (c == '?')
            {
                pos = ParseSpace(pos + 1, nested);
                Repeat(rule, ruleName, lastSymStart, ref prevRules, 0, 1, pos);
            }
            else if (c == '{')
            {
                pos = ParseSpace(pos + 1, nested);
                if (!IsDigit(_src[pos])) throw Syntax("expecting an int", pos);
                int intEnd = ParseInt(pos);
                ulong min = ParseCount(pos, intEnd);
                pos = ParseSpace(intEnd, nested);
                ulong max = NoMax;
                if (_src[pos] == '}')
                {
                    max = min;
                    pos = ParseSpace(pos + 1, nested);
                }
                else if (_src[pos] == ',')
                {
                    pos = ParseSpace(pos + 1, nested);
                    if (IsDigit(_src[pos]))
                    {
                        int maxEnd = ParseInt(pos);
                        max = ParseCount(pos, maxEnd);
                        pos = ParseSpace(maxEnd, nested);
                    }
                    if (_src[pos] != '}') throw Syntax("expecting '}'", pos);
                    pos = ParseSpace(pos + 1, nested);
                }
                else
                {
                    throw Syntax("expecting ','", pos);
                }
                if (min > RepetitionThreshold || (max != NoMax && max > RepetitionThreshold))
                    throw new GbnfCheckException(GbnfProblem.RepetitionCount,
                        $"a repetition count above {RepetitionThreshold} ({{{min}{(max == min ? "" : max == NoMax ? "," : "," + max)}}})");
                Repeat(rule, ruleName, lastSymStart, ref prevRules, min, max, pos);
            }
            else
            {
                break;
            }
        }
        return pos;
    }

    /// <summary>
    /// llama.cpp's handle_repetitions: S{m,n} becomes m copies of S followed by a chain of n-m generated rules
    /// (S' ::= S S'' | ...), S{m,} becomes m copies and S' ::= S S' |.
    /// </summary>
    private void Repeat(List<GbnfElement> rule, string ruleName, int lastSymStart, ref ulong prevRules, ulong min, ulong max, int pos)
    {
        bool noMax = max == NoMax;
        if (lastSymStart == rule.Count) throw Syntax("expecting preceding item to */+/?/{", pos);
        var previous = rule.GetRange(lastSymStart, rule.Count - lastSymStart);
        ulong total = 1;
        if (!noMax && max > 0) total = max;
        else if (min > 0) total = min;
        if (prevRules * total >= RepetitionThreshold)
            throw new GbnfCheckException(GbnfProblem.RepetitionComplexity,
                $"a repeated item that generates {prevRules} rule(s), repeated up to {total} times, reaches llama.cpp's limit of {RepetitionThreshold}");
        if (!noMax && max < min)
            throw new GbnfCheckException(GbnfProblem.ReversedRepetition, $"a repetition {{{min},{max}}} whose maximum is below its minimum");

        ulong optional = noMax ? 1 : max - min;
        // Sized before anything is built: the copies of S, the generated rules (S plus a reference, Alt, End;
        // the last of a bounded chain has no reference) and the reference to the chain.
        ulong copies = (min == 0 ? 0 : min - 1) * (ulong)previous.Count;
        ulong chain = optional == 0 ? 0 : optional * (ulong)(previous.Count + 3) - (noMax ? 0UL : 1UL) + 1;
        Grow((long)(copies + chain));
        if (min == 0)
        {
            _elements -= rule.Count - lastSymStart;
            rule.RemoveRange(lastSymStart, rule.Count - lastSymStart);
        }
        else
        {
            for (ulong i = 1; i < min; i++) rule.AddRange(previous);
        }

        uint lastRecId = 0;
        for (ulong i = 0; i < optional; i++)
        {
            uint recId = GenerateSymbolId(ruleName);
            var rec = new List<GbnfElement>(previous.Count + 3);
            rec.AddRange(previous);
            if (i > 0 || noMax) rec.Add(new(GbnfElementType.RuleRef, noMax ? recId : lastRecId));
            rec.Add(new(GbnfElementType.Alt, 0));
            rec.Add(new(GbnfElementType.End, 0));
            AddRule(recId, rec);
            lastRecId = recId;
        }
        if (optional > 0) rule.Add(new(GbnfElementType.RuleRef, lastRecId));
        prevRules *= total;
    }

    /// <summary>Skips a token reference: <c>&lt;[id]&gt;</c> or <c>&lt;text&gt;</c>. Malformed ones fail as in llama.cpp.</summary>
    private int SkipToken(int pos)
    {
        if (_src[pos] != '<') throw Syntax("expecting '<'", pos);
        pos++;
        if (_src[pos] == '[')
        {
            pos++;
            int end = ParseInt(pos);
            if (end - pos > 20 || decimal.Parse(Ascii(pos, end), System.Globalization.CultureInfo.InvariantCulture) > ulong.MaxValue)
                throw Syntax("token id out of range", pos);
            pos = end;
            if (_src[pos] != ']') throw Syntax("expecting ']'", pos);
            pos++;
            if (_src[pos] != '>') throw Syntax("expecting '>'", pos);
            return pos + 1;
        }
        while (_src[pos] != 0 && _src[pos] != '>') pos++;
        if (_src[pos] != '>') throw Syntax("expecting '>'", pos);
        return pos + 1;
    }

    private (uint Value, int Next) ParseChar(int pos)
    {
        if (_src[pos] == '\\')
        {
            switch ((char)_src[pos + 1])
            {
                case 'x': return ParseHex(pos + 2, 2);
                case 'u': return ParseHex(pos + 2, 4);
                case 'U': return ParseHex(pos + 2, 8);
                case 't': return ('\t', pos + 2);
                case 'r': return ('\r', pos + 2);
                case 'n': return ('\n', pos + 2);
                // Not '\-': the llama.cpp bundled with LLamaSharp 0.30.0 refuses it.
                case '\\' or '"' or '[' or ']': return (_src[pos + 1], pos + 2);
                default: throw Syntax("unknown escape", pos);
            }
        }
        if (_src[pos] != 0) return DecodeUtf8(pos);
        throw Syntax("unexpected end of input", pos);
    }

    private (uint Value, int Next) ParseHex(int pos, int size)
    {
        int end = pos + size, p = pos;
        uint value = 0;
        for (; p < end && _src[p] != 0; p++)
        {
            value <<= 4;
            byte c = _src[p];
            if (c is >= (byte)'a' and <= (byte)'f') value += (uint)(c - 'a' + 10);
            else if (c is >= (byte)'A' and <= (byte)'F') value += (uint)(c - 'A' + 10);
            else if (c is >= (byte)'0' and <= (byte)'9') value += (uint)(c - '0');
            else break;
        }
        if (p != end) throw Syntax($"expecting {size} hex chars", pos);
        return (value, p);
    }

    /// <summary>llama.cpp's lenient decode: the length comes from the first byte, continuation bytes are not validated.</summary>
    private (uint Value, int Next) DecodeUtf8(int pos)
    {
        ReadOnlySpan<int> lookup = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];
        byte first = _src[pos];
        int length = lookup[first >> 4];
        uint value = first & (uint)((1 << (8 - length)) - 1);
        int end = pos + length, p = pos + 1;
        for (; p < end && _src[p] != 0; p++) value = (value << 6) + (uint)(_src[p] & 0x3F);
        return (value, p);
    }

    private int ParseSpace(int pos, bool newlineOk)
    {
        while (true)
        {
            byte c = _src[pos];
            if (c == '#')
            {
                while (_src[pos] != 0 && _src[pos] != '\r' && _src[pos] != '\n') pos++;
            }
            else if (c == ' ' || c == '\t' || (newlineOk && (c == '\r' || c == '\n')))
            {
                pos++;
            }
            else
            {
                return pos;
            }
        }
    }

    private int ParseName(int pos)
    {
        int end = pos;
        while (IsWordChar(_src[end])) end++;
        if (end == pos) throw Syntax("expecting name", pos);
        return end;
    }

    private int ParseInt(int pos)
    {
        int end = pos;
        while (IsDigit(_src[end])) end++;
        if (end == pos) throw Syntax("expecting integer", pos);
        return end;
    }

    /// <summary>std::stoull: values past 64 bits throw (a parse failure in llama.cpp).</summary>
    private ulong ParseCount(int pos, int end)
    {
        ulong value = 0;
        for (int p = pos; p < end; p++)
        {
            ulong digit = (ulong)(_src[p] - '0');
            if (value > (ulong.MaxValue - digit) / 10) throw Syntax("repetition count out of range", pos);
            value = value * 10 + digit;
        }
        return value;
    }

    private uint GetSymbolId(string name)
    {
        if (_symbolIds.TryGetValue(name, out var id)) return id;
        id = NewSymbol(name);
        _symbolIds[name] = id;
        return id;
    }

    /// <summary>Generated names contain '_', which rule names cannot, so they never collide with a written name.</summary>
    private uint GenerateSymbolId(string baseName) => NewSymbol($"{baseName}_{_names.Count}");

    private uint NewSymbol(string name)
    {
        if (_names.Count >= GbnfLimits.MaxSymbols)
            throw new GbnfCheckException(GbnfProblem.TooLarge, $"more than {GbnfLimits.MaxSymbols} symbols after expanding repetitions");
        _names.Add(name);
        return (uint)(_names.Count - 1);
    }

    private void AddRule(uint id, List<GbnfElement> rule)
    {
        while (_rules.Count <= id) _rules.Add(null);
        // Rules built by Repeat were sized in advance; rules built by Push are already counted.
        if (_rules[(int)id] is { } replaced) _elements -= replaced.Count;
        _rules[(int)id] = rule;
    }

    private void Push(List<GbnfElement> rule, GbnfElementType type, uint value)
    {
        Grow(1);
        rule.Add(new(type, value));
    }

    private void Grow(long elements)
    {
        _elements += elements;
        if (_elements > GbnfLimits.MaxElements)
            throw new GbnfCheckException(GbnfProblem.TooLarge, $"more than {GbnfLimits.MaxElements} grammar elements after expanding repetitions");
    }

    private string Ascii(int from, int to) => Encoding.ASCII.GetString(_src, from, to - from);

    private GbnfCheckException Syntax(string what, int pos)
    {
        int end = Math.Min(_src.Length - 1, pos + 24);
        string near = Encoding.UTF8.GetString(_src, pos, Math.Max(0, end - pos));
        return new GbnfCheckException(GbnfProblem.Syntax, $"{what} at byte {pos} (near \"{near}\")");
    }

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static bool IsWordChar(byte c) => c is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or (byte)'-' or >= (byte)'0' and <= (byte)'9';
}
