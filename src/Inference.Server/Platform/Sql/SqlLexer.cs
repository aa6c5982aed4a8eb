namespace Inference.Server.Platform.Sql;

public enum SqlTokenKind
{
    /// <summary>An unquoted identifier or keyword; <see cref="SqlToken.Value"/> is folded to lower case, as PostgreSQL does.</summary>
    Word,
    /// <summary>A "quoted identifier"; <see cref="SqlToken.Value"/> is its exact name.</summary>
    QuotedIdentifier,
    /// <summary>A string constant ('...', E'...', $tag$...$tag$, B'...', X'...').</summary>
    String,
    Number,
    /// <summary>$1, $2, ...</summary>
    Parameter,
    Semicolon,
    /// <summary>Any other punctuation or operator: ( ) , . * = :: ...</summary>
    Symbol,
}

/// <param name="Value">Identifier name (folded or unquoted); the raw text for other kinds.</param>
/// <param name="Start">Offset of the token's first character in the source.</param>
/// <param name="End">Offset just past the token's last character.</param>
public readonly record struct SqlToken(SqlTokenKind Kind, string Value, int Start, int End)
{
    public bool IsIdentifier => Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier;
    public bool IsWord(string lowerCase) => Kind == SqlTokenKind.Word && Value == lowerCase;
    public bool IsSymbol(string text) => Kind == SqlTokenKind.Symbol && Value == text;
}

/// <summary>
/// PostgreSQL's lexical structure, enough to find statement boundaries, keywords and identifiers:
/// comments (nested /* */ and --) are skipped, strings and quoted identifiers are single tokens, so
/// a ';' or a keyword inside them never counts. It is a guard and a helper, not a parser: what it
/// lets through is still parsed by PostgreSQL, which sees the statement as one protocol message.
/// </summary>
public static class SqlLexer
{
    /// <summary>The tokens of <paramref name="sql"/>; throws <see cref="FormatException"/> on an unterminated string, identifier or comment.</summary>
    public static List<SqlToken> Tokenize(string sql)
    {
        var tokens = new List<SqlToken>();
        int i = 0;
        while (i < sql.Length)
        {
            char c = sql[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '-' && At(sql, i + 1, '-')) { i = SkipLine(sql, i); continue; }
            if (c == '/' && At(sql, i + 1, '*')) { i = SkipBlockComment(sql, i); continue; }

            int start = i;
            if (c == '\'')
                tokens.Add(new(SqlTokenKind.String, sql[start..(i = SkipQuoted(sql, i, '\'', backslashEscapes: false))], start, i));
            else if ((c is 'E' or 'e') && At(sql, i + 1, '\''))
                tokens.Add(new(SqlTokenKind.String, sql[start..(i = SkipQuoted(sql, i + 1, '\'', backslashEscapes: true))], start, i));
            else if ((c is 'B' or 'b' or 'X' or 'x' or 'N' or 'n') && At(sql, i + 1, '\''))
                tokens.Add(new(SqlTokenKind.String, sql[start..(i = SkipQuoted(sql, i + 1, '\'', backslashEscapes: false))], start, i));
            else if ((c is 'U' or 'u') && At(sql, i + 1, '&') && (At(sql, i + 2, '\'') || At(sql, i + 2, '"')))
            {
                // U&'...' / U&"...": Unicode escapes; the quoting rules are those of the plain form.
                bool identifier = sql[i + 2] == '"';
                i = SkipQuoted(sql, i + 2, sql[i + 2], backslashEscapes: false);
                tokens.Add(new(identifier ? SqlTokenKind.QuotedIdentifier : SqlTokenKind.String, sql[start..i], start, i));
            }
            else if (c == '"')
            {
                i = SkipQuoted(sql, i, '"', backslashEscapes: false);
                tokens.Add(new(SqlTokenKind.QuotedIdentifier, sql[(start + 1)..(i - 1)].Replace("\"\"", "\""), start, i));
            }
            else if (c == '$' && DollarTag(sql, i) is { } tag)
            {
                int close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                if (close < 0) throw new FormatException($"unterminated dollar-quoted string at position {start + 1}");
                i = close + tag.Length;
                tokens.Add(new(SqlTokenKind.String, sql[start..i], start, i));
            }
            else if (c == '$' && i + 1 < sql.Length && char.IsAsciiDigit(sql[i + 1]))
            {
                i++;
                while (i < sql.Length && char.IsAsciiDigit(sql[i])) i++;
                tokens.Add(new(SqlTokenKind.Parameter, sql[start..i], start, i));
            }
            else if (IsIdentifierStart(c))
            {
                while (i < sql.Length && IsIdentifierPart(sql[i])) i++;
                tokens.Add(new(SqlTokenKind.Word, sql[start..i].ToLowerInvariant(), start, i));
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < sql.Length && char.IsAsciiDigit(sql[i + 1])))
            {
                while (i < sql.Length && (char.IsAsciiLetterOrDigit(sql[i]) || sql[i] == '.' || sql[i] == '_'
                       || ((sql[i] is '+' or '-') && sql[i - 1] is 'e' or 'E'))) i++;
                tokens.Add(new(SqlTokenKind.Number, sql[start..i], start, i));
            }
            else if (c == ';')
                tokens.Add(new(SqlTokenKind.Semicolon, ";", start, ++i));
            else if (c == ':' && At(sql, i + 1, ':'))
                tokens.Add(new(SqlTokenKind.Symbol, "::", start, i += 2));
            else
                tokens.Add(new(SqlTokenKind.Symbol, c.ToString(), start, ++i));
        }
        return tokens;
    }

    private static bool At(string s, int i, char c) => i < s.Length && s[i] == c;

    private static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_' || c == '$';

    private static int SkipLine(string sql, int i)
    {
        int end = sql.IndexOf('\n', i);
        return end < 0 ? sql.Length : end + 1;
    }

    /// <summary>PostgreSQL's block comments nest: /* a /* b */ still a comment */.</summary>
    private static int SkipBlockComment(string sql, int i)
    {
        int start = i, depth = 0;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && At(sql, i + 1, '*')) { depth++; i += 2; }
            else if (sql[i] == '*' && At(sql, i + 1, '/')) { i += 2; if (--depth == 0) return i; }
            else i++;
        }
        throw new FormatException($"unterminated /* comment at position {start + 1}");
    }

    /// <summary>Skips a quoted run starting at the opening quote; a doubled quote is an escaped one. Returns the offset after the closing quote.</summary>
    private static int SkipQuoted(string sql, int i, char quote, bool backslashEscapes)
    {
        int start = i++;
        while (i < sql.Length)
        {
            char c = sql[i];
            if (backslashEscapes && c == '\\') { i += 2; continue; }
            if (c == quote)
            {
                if (At(sql, i + 1, quote)) { i += 2; continue; }
                return i + 1;
            }
            i++;
        }
        throw new FormatException(quote == '"'
            ? $"unterminated quoted identifier at position {start + 1}"
            : $"unterminated quoted string at position {start + 1}");
    }

    /// <summary>The opening $tag$ of a dollar-quoted string at <paramref name="i"/>, or null.</summary>
    private static string? DollarTag(string sql, int i)
    {
        int j = i + 1;
        if (j < sql.Length && sql[j] == '$') return "$$";
        if (j >= sql.Length || !IsIdentifierStart(sql[j])) return null;
        while (j < sql.Length && (char.IsLetterOrDigit(sql[j]) || sql[j] == '_')) j++;
        return j < sql.Length && sql[j] == '$' ? sql[i..(j + 1)] : null;
    }
}

/// <summary>Identifier spelling for SQL this server writes (suggested DDL): quoted only when it must be.</summary>
public static class SqlIdentifier
{
    /// <summary>
    /// One quoting rule for every SQL the server writes (grammars, index suggestions, DDL echoes):
    /// reserved, type/function-name and column-name keywords are quoted too, since a column named
    /// "left" or "like" is a syntax error bare.
    /// </summary>
    public static string Quote(string name) => SqlGrammarIdentifiers.Quote(name);

    public static string Qualified(string schema, string name) => Quote(schema) + "." + Quote(name);
}
