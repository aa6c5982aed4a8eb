using System.Text;
using Inference.Engine.Grammar;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// A GBNF expression together with the most UTF-8 bytes any text it matches can have. llama.cpp's
/// grammar sampler never accepts a token with an empty piece, so every token adds at least one
/// byte: the root's <see cref="MaxBytes"/> is a token count within which every generation finishes.
/// Texts are always self-contained (a literal, a class, a rule name or a parenthesised group),
/// so they compose without precedence surprises.
/// </summary>
internal readonly record struct SqlGrammarExpr(string Text, int MaxBytes)
{
    /// <summary>Exactly this text (already JSON-escaped where it sits inside the answer's JSON string).</summary>
    public static SqlGrammarExpr Literal(string text) => new(GbnfRules.Literal(text), Encoding.UTF8.GetByteCount(text));

    /// <summary>SQL text inside the answer's JSON string: JSON-escaped, then a GBNF literal.</summary>
    public static SqlGrammarExpr Sql(string sql) => Literal(SqlGrammarIdentifiers.JsonEscape(sql));

    /// <summary>One character of an ASCII-only class such as <c>[0-9]</c>.</summary>
    public static SqlGrammarExpr AsciiClass(string gbnfClass) => new(gbnfClass, 1);

    public static SqlGrammarExpr Sequence(params SqlGrammarExpr[] parts) =>
        new("(" + string.Join(" ", parts.Select(p => p.Text)) + ")", parts.Sum(p => p.MaxBytes));

    public static SqlGrammarExpr Choice(IEnumerable<SqlGrammarExpr> options)
    {
        var list = options.ToList();
        if (list.Count == 0) throw new ArgumentException("a choice needs at least one option", nameof(options));
        return list.Count == 1 ? list[0] : new("(" + string.Join(" | ", list.Select(o => o.Text)) + ")", list.Max(o => o.MaxBytes));
    }

    public static SqlGrammarExpr Choice(params SqlGrammarExpr[] options) => Choice((IEnumerable<SqlGrammarExpr>)options);

    public static SqlGrammarExpr Choice(params string[] literals) => Choice(literals.Select(Literal));

    public SqlGrammarExpr Optional() => new(Text + "?", MaxBytes);

    public SqlGrammarExpr Repeat(int min, int max) => new($"{Text}{{{min},{max}}}", MaxBytes * max);

    /// <summary>The expression as a named rule (identical bodies share one rule).</summary>
    public SqlGrammarExpr Named(GbnfRules rules, string hint) => new(rules.Named(hint, Text), MaxBytes);

    public static implicit operator SqlGrammarExpr(string literal) => Literal(literal);
}
