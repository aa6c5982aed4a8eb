using System.Text;

namespace Inference.Engine.Grammar;

/// <summary>
/// Collects named GBNF rules. Identical bodies are shared under one name so that a schema repeating the
/// same sub-schema does not bloat the grammar llama.cpp has to compile.
/// </summary>
/// <remarks>
/// Public on purpose: the engine's grammar building block for grammars written outside it (the server's SQL
/// grammar builds its rules here, so every literal goes through <see cref="Literal"/> and every name through
/// the same sanitizing as the JSON-schema converter's).
/// </remarks>
public sealed class GbnfRules
{
    private readonly List<(string Name, string Body)> _rules = new();
    private readonly Dictionary<string, string> _byBody = new(StringComparer.Ordinal);
    // Primitive names are reserved up front so a property called "string" cannot take the name of the primitive.
    private readonly HashSet<string> _names = new(PrimitiveRules.Names.Append("root"), StringComparer.Ordinal);
    private readonly HashSet<string> _primitives = new(StringComparer.Ordinal);

    /// <summary>Reserves a unique rule name derived from <paramref name="hint"/> (for rules defined later, e.g. recursive refs).</summary>
    public string Reserve(string hint)
    {
        var baseName = Sanitize(hint);
        var name = baseName;
        for (var i = 1; !_names.Add(name); i++) name = $"{baseName}-{i}";
        return name;
    }

    /// <summary>Defines a reserved name. Reserved-then-defined rules are never merged, since others may already point at them.</summary>
    public void Define(string name, string body) => _rules.Add((name, body));

    /// <summary>Returns <paramref name="expr"/> itself when it is already a bare rule name, else a (shared) rule holding it.</summary>
    public string Named(string hint, string expr)
    {
        if (IsIdentifier(expr)) return expr;
        if (_byBody.TryGetValue(expr, out var existing)) return existing;
        var name = Reserve(hint);
        _byBody[expr] = name;
        _rules.Add((name, expr));
        return name;
    }

    /// <summary>Adds one of the fixed primitive rules (and the rules it uses) once, under its fixed name.</summary>
    public string Primitive(string name)
    {
        if (!_primitives.Add(name)) return name;
        var (body, uses) = PrimitiveRules.Get(name);
        _rules.Add((name, body));
        foreach (var dependency in uses) Primitive(dependency);
        return name;
    }

    public string Render(string rootBody)
    {
        var sb = new StringBuilder();
        sb.Append("root ::= ").Append(rootBody).Append('\n');
        foreach (var (name, body) in _rules) sb.Append(name).Append(" ::= ").Append(body).Append('\n');
        return sb.ToString();
    }

    /// <summary>A GBNF string literal matching <paramref name="text"/> exactly.</summary>
    public static string Literal(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7F) sb.Append($"\\x{(int)c:X2}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A code point inside a GBNF character class: letters and digits as themselves, anything else as an escape.</summary>
    public static string ClassChar(int c) =>
        c < 0x80 && char.IsAsciiLetterOrDigit((char)c) ? ((char)c).ToString()
        : c <= 0xFF ? $"\\x{c:X2}"
        : c <= 0xFFFF ? $"\\u{c:X4}"
        : $"\\U{c:X8}";

    private static bool IsIdentifier(string expr) => expr.Length > 0 && expr.All(IsNameChar);

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '-';

    /// <summary>GBNF rule names are [a-zA-Z0-9-]+; anything else in a hint (property names, $defs keys) becomes '-'.</summary>
    private static string Sanitize(string hint)
    {
        var chars = hint.Select(c => IsNameChar(c) ? c : '-').ToArray();
        var name = new string(chars).Trim('-');
        while (name.Contains("--", StringComparison.Ordinal)) name = name.Replace("--", "-", StringComparison.Ordinal);
        return name.Length == 0 ? "r" : name;
    }
}
