using System.Globalization;
using System.Text;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// Draws random texts from a GBNF grammar, as a model constrained by it could write them, without a
/// model: every alternative, repetition count and character-class member is equally likely. Reads
/// the GBNF the SQL grammars render (literals with \" \\ \n \r \t \xHH escapes, [classes] with
/// ranges, rule names, ( | ), ?, *, +, {m,n}); * and + repeat at most three times.
/// </summary>
public sealed class GbnfSampler
{
    private abstract record Node;
    private sealed record Literal(string Text) : Node;
    private sealed record CharClass(List<(char From, char To)> Ranges) : Node;
    private sealed record RuleRef(string Name) : Node;
    private sealed record Alternatives(List<List<Node>> Options) : Node;
    private sealed record Repeat(Node Item, int Min, int Max) : Node;

    private readonly Dictionary<string, Node> _rules = new(StringComparer.Ordinal);

    public GbnfSampler(string gbnf)
    {
        foreach (var line in gbnf.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int at = line.IndexOf(" ::= ", StringComparison.Ordinal);
            if (at < 0) throw new FormatException("not a rule: " + line);
            int i = at + 5;
            _rules[line[..at]] = ParseAlternatives(line, ref i);
            if (i != line.Length) throw new FormatException($"unexpected text at {i} in: {line}");
        }
        if (!_rules.ContainsKey("root")) throw new FormatException("the grammar has no root rule");
    }

    public string Sample(Random random)
    {
        var text = new StringBuilder();
        Emit(_rules["root"], random, text, 0);
        return text.ToString();
    }

    private void Emit(Node node, Random random, StringBuilder text, int depth)
    {
        if (depth > 200) throw new InvalidOperationException("the grammar recurses too deeply to sample");
        switch (node)
        {
            case Literal literal:
                text.Append(literal.Text);
                break;
            case CharClass characters:
                var (from, to) = characters.Ranges[random.Next(characters.Ranges.Count)];
                text.Append((char)random.Next(from, to + 1));
                break;
            case RuleRef rule:
                Emit(_rules[rule.Name], random, text, depth + 1);
                break;
            case Alternatives alternatives:
                foreach (var item in alternatives.Options[random.Next(alternatives.Options.Count)]) Emit(item, random, text, depth + 1);
                break;
            case Repeat repeat:
                int count = random.Next(repeat.Min, repeat.Max + 1);
                for (int k = 0; k < count; k++) Emit(repeat.Item, random, text, depth + 1);
                break;
        }
    }

    private static Alternatives ParseAlternatives(string s, ref int i)
    {
        var options = new List<List<Node>> { ParseSequence(s, ref i) };
        while (Skip(s, ref i) && s[i] == '|')
        {
            i++;
            options.Add(ParseSequence(s, ref i));
        }
        return new Alternatives(options);
    }

    private static List<Node> ParseSequence(string s, ref int i)
    {
        var items = new List<Node>();
        while (Skip(s, ref i) && s[i] is not ('|' or ')'))
        {
            var item = ParseAtom(s, ref i);
            if (i < s.Length && s[i] is '?' or '*' or '+')
            {
                item = s[i] switch { '?' => new Repeat(item, 0, 1), '*' => new Repeat(item, 0, 3), _ => new Repeat(item, 1, 3) };
                i++;
            }
            else if (i < s.Length && s[i] == '{')
            {
                int close = s.IndexOf('}', i);
                var bounds = s[(i + 1)..close].Split(',');
                int min = int.Parse(bounds[0], CultureInfo.InvariantCulture);
                int max = bounds.Length == 1 ? min : bounds[1].Length == 0 ? min + 3 : int.Parse(bounds[1], CultureInfo.InvariantCulture);
                item = new Repeat(item, min, max);
                i = close + 1;
            }
            items.Add(item);
        }
        return items;
    }

    private static Node ParseAtom(string s, ref int i)
    {
        char c = s[i];
        if (c == '"')
        {
            var text = new StringBuilder();
            i++;
            while (s[i] != '"') text.Append(s[i] == '\\' ? Escape(s, ref i) : s[i++]);
            i++;
            return new Literal(text.ToString());
        }
        if (c == '[')
        {
            i++;
            if (s[i] == '^') throw new FormatException("negated classes are not sampled");
            var ranges = new List<(char, char)>();
            while (s[i] != ']')
            {
                char from = s[i] == '\\' ? Escape(s, ref i) : s[i++];
                char to = from;
                if (s[i] == '-' && s[i + 1] != ']')
                {
                    i++;
                    to = s[i] == '\\' ? Escape(s, ref i) : s[i++];
                }
                ranges.Add((from, to));
            }
            i++;
            return new CharClass(ranges);
        }
        if (c == '(')
        {
            i++;
            var group = ParseAlternatives(s, ref i);
            if (!Skip(s, ref i) || s[i] != ')') throw new FormatException("unclosed group");
            i++;
            return group;
        }
        int start = i;
        while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '-')) i++;
        if (i == start) throw new FormatException($"unexpected '{c}' at {i}");
        return new RuleRef(s[start..i]);
    }

    private static char Escape(string s, ref int i)
    {
        char e = s[i + 1];
        i += 2;
        switch (e)
        {
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'x':
                var code = (char)int.Parse(s.AsSpan(i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                i += 2;
                return code;
            default: return e;
        }
    }

    private static bool Skip(string s, ref int i)
    {
        while (i < s.Length && s[i] == ' ') i++;
        return i < s.Length;
    }
}
