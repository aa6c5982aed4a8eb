using System.Globalization;
using System.Text;

namespace Inference.Server.Platform.Sql;

public enum SqlTokenKind
{
    /// <summary>An unquoted identifier or keyword; <see cref="SqlToken.Value"/> is folded and truncated as PostgreSQL does.</summary>
    Word,
    /// <summary>A "quoted identifier" or U&amp;"..." one; <see cref="SqlToken.Value"/> is its exact (decoded, truncated) name.</summary>
    QuotedIdentifier,
    /// <summary>A string constant; <see cref="SqlToken.Value"/> is its decoded content, <see cref="SqlToken.StringKind"/> its form.</summary>
    String,
    /// <summary>A numeric constant; <see cref="SqlToken.Value"/> is its text.</summary>
    Number,
    /// <summary>$1, $2, ...</summary>
    Parameter,
    Semicolon,
    /// <summary>Punctuation (( ) , . [ ] : ::) or an operator, split as PostgreSQL splits operators; != reads as &lt;&gt;.</summary>
    Symbol,
}

/// <summary>How a string constant was written (PostgreSQL gives some forms other types or meanings).</summary>
public enum SqlStringKind
{
    /// <summary>'...' (standard_conforming_strings on: a backslash is a plain character).</summary>
    Plain,
    /// <summary>E'...' with backslash escapes.</summary>
    Escape,
    /// <summary>U&amp;'...' with Unicode escapes (and an optional UESCAPE).</summary>
    Unicode,
    /// <summary>$tag$...$tag$.</summary>
    Dollar,
    /// <summary>B'...': a bit string.</summary>
    Bit,
    /// <summary>X'...': a bit string in hexadecimal.</summary>
    Hex,
    /// <summary>N'...': a national character string (char type).</summary>
    National,
}

/// <param name="Value">The normalized identifier, the decoded string, or the raw text of other kinds.</param>
/// <param name="Start">Offset of the token's first character in the source.</param>
/// <param name="End">Offset just past the token's last character (past UESCAPE 'c' when it has one).</param>
public readonly record struct SqlToken(SqlTokenKind Kind, string Value, int Start, int End, SqlStringKind StringKind = SqlStringKind.Plain)
{
    public bool IsIdentifier => Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier;
    public bool IsWord(string lowerCase) => Kind == SqlTokenKind.Word && Value == lowerCase;
    public bool IsSymbol(string text) => Kind == SqlTokenKind.Symbol && Value == text;
}

/// <summary>
/// PostgreSQL's lexical structure (scan.l of PostgreSQL 15, with standard_conforming_strings on and
/// a UTF-8 database), so that what is checked is what PostgreSQL will see:
/// <list type="bullet">
/// <item>unquoted identifiers are folded to lower case for ASCII letters only (PostgreSQL leaves other
/// letters alone in UTF-8) and every identifier is truncated to 63 bytes (NAMEDATALEN - 1);</item>
/// <item>"quoted" identifiers keep their case; U&amp;"..." and U&amp;'...' decode \XXXX and \+XXXXXX
/// escapes, with the escape character of a following UESCAPE 'c';</item>
/// <item>E'...' decodes backslash escapes; '' doubles a quote in every form; 'a' and 'b' separated by
/// whitespace holding a newline are one string; $tag$...$tag$ is taken as it is;</item>
/// <item>nested /* */ and -- comments separate tokens; operators are split by PostgreSQL's rules
/// (a run of operator characters stops at a comment, and loses trailing + and - unless it holds one
/// of ~ ! @ # % ^ &amp; | ` ?); a number running into a letter is an error, as in PostgreSQL 15.</item>
/// </list>
/// Malformed input (unterminated strings or comments, bad escapes, characters PostgreSQL does not
/// accept) throws <see cref="FormatException"/>. Operators and punctuation of any kind are tokens:
/// which of them are allowed is the parser's business (<see cref="SqlQueryParser"/>).
/// </summary>
public static class SqlLexer
{
    /// <summary>PostgreSQL's NAMEDATALEN - 1: longer identifiers are truncated to this many bytes.</summary>
    public const int MaxIdentifierBytes = 63;

    private const string OperatorChars = "~!@#^&|`?+-*/%<>=";
    // Characters that are tokens of their own (PostgreSQL's "self"), when not part of a longer operator.
    private const string SelfChars = ",()[].;:+-*/%^<>=";

    /// <summary>The tokens of <paramref name="sql"/>; throws <see cref="FormatException"/> for text PostgreSQL's lexer would reject.</summary>
    public static List<SqlToken> Tokenize(string sql)
    {
        RequireEncodable(sql);
        var tokens = new List<SqlToken>();
        int i = 0;
        while (true)
        {
            i = SkipSpaceAndComments(sql, i);
            if (i >= sql.Length) break;
            char c = sql[i];
            int start = i;
            if (c == '\'')
                tokens.Add(QuotedString(sql, ref i, i, SqlStringKind.Plain));
            else if ((c is 'E' or 'e') && At(sql, i + 1, '\''))
                tokens.Add(QuotedString(sql, ref i, i + 1, SqlStringKind.Escape));
            else if ((c is 'B' or 'b') && At(sql, i + 1, '\''))
                tokens.Add(QuotedString(sql, ref i, i + 1, SqlStringKind.Bit));
            else if ((c is 'X' or 'x') && At(sql, i + 1, '\''))
                tokens.Add(QuotedString(sql, ref i, i + 1, SqlStringKind.Hex));
            else if ((c is 'N' or 'n') && At(sql, i + 1, '\''))
                tokens.Add(QuotedString(sql, ref i, i + 1, SqlStringKind.National));
            else if ((c is 'U' or 'u') && At(sql, i + 1, '&') && (At(sql, i + 2, '\'') || At(sql, i + 2, '"')))
                tokens.Add(UnicodeToken(sql, ref i));
            else if (c == '"')
            {
                var name = Unquote(sql, ref i, '"');
                if (name.Length == 0) throw new FormatException($"zero-length delimited identifier at position {start + 1}");
                tokens.Add(new(SqlTokenKind.QuotedIdentifier, Truncate(name), start, i));
            }
            else if (c == '$' && DollarTag(sql, i) is { } tag)
            {
                int close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                if (close < 0) throw new FormatException($"unterminated dollar-quoted string at position {start + 1}");
                tokens.Add(new(SqlTokenKind.String, sql[(i + tag.Length)..close], start, i = close + tag.Length, SqlStringKind.Dollar));
            }
            else if (c == '$' && At(sql, i + 1, char.IsAsciiDigit))
            {
                i++;
                while (At(sql, i, char.IsAsciiDigit)) i++;
                if (At(sql, i, IsIdentifierStart)) throw new FormatException($"trailing junk after parameter at position {start + 1}");
                tokens.Add(new(SqlTokenKind.Parameter, sql[start..i], start, i));
            }
            else if (IsIdentifierStart(c))
            {
                while (At(sql, i, IsIdentifierPart)) i++;
                tokens.Add(new(SqlTokenKind.Word, Truncate(FoldAscii(sql[start..i])), start, i));
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && At(sql, i + 1, char.IsAsciiDigit)))
                tokens.Add(Number(sql, ref i));
            else if (c == ';')
                tokens.Add(new(SqlTokenKind.Semicolon, ";", start, ++i));
            else if (c == ':' && At(sql, i + 1, ':'))
                tokens.Add(new(SqlTokenKind.Symbol, "::", start, i += 2));
            else if (c == '.' && At(sql, i + 1, '.'))
                tokens.Add(new(SqlTokenKind.Symbol, "..", start, i += 2));
            else if (OperatorChars.Contains(c))
                tokens.Add(Operator(sql, ref i));
            else if (SelfChars.Contains(c) || c is '{' or '}' or '\\')
                tokens.Add(new(SqlTokenKind.Symbol, c.ToString(), start, ++i));
            else
                throw new FormatException($"unexpected character U+{(int)c:X4} at position {start + 1}");
        }
        return tokens;
    }

    /// <summary>
    /// PostgreSQL reads exactly what was checked only if the text survives the trip: a NUL would end
    /// the query text on the wire early, and a lone surrogate would reach the server as U+FFFD.
    /// Both are refused anywhere, in comments and strings too.
    /// </summary>
    private static void RequireEncodable(string sql)
    {
        for (int k = 0; k < sql.Length; k++)
        {
            char c = sql[k];
            if (c == '\0') throw new FormatException($"invalid byte sequence for encoding \"UTF8\": 0x00 at position {k + 1}");
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && k + 1 < sql.Length && char.IsLowSurrogate(sql[k + 1])) { k++; continue; }
            throw new FormatException($"invalid character at position {k + 1}: a lone UTF-16 surrogate (U+{(int)c:X4}) is no Unicode character");
        }
    }

    /// <summary>An unquoted name as PostgreSQL keeps it: ASCII letters folded to lower case, truncated to 63 bytes.</summary>
    public static string NormalizeUnquoted(string name) => Truncate(FoldAscii(name));

    private static bool At(string s, int i, char c) => i < s.Length && s[i] == c;

    private static bool At(string s, int i, Func<char, bool> test) => i < s.Length && test(s[i]);

    // PostgreSQL 15's whitespace is [ \t\n\r\f]; \v is not (it became whitespace in 16), so it is refused below.
    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f';

    // ident_start [A-Za-z\200-\377_]: any non-ASCII character (a UTF-8 byte with the high bit set) counts as a letter.
    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= 0x80;

    private static bool IsIdentifierPart(char c) => IsIdentifierStart(c) || char.IsAsciiDigit(c) || c == '$';

    private static string FoldAscii(string word) => string.Create(word.Length, word, static (span, w) =>
    {
        for (int k = 0; k < w.Length; k++) span[k] = w[k] is >= 'A' and <= 'Z' ? (char)(w[k] + 32) : w[k];
    });

    /// <summary>The longest prefix of at most 63 UTF-8 bytes that ends on a character boundary.</summary>
    private static string Truncate(string name)
    {
        if (Encoding.UTF8.GetByteCount(name) <= MaxIdentifierBytes) return name;
        int bytes = 0, k = 0;
        while (k < name.Length)
        {
            int width = char.IsSurrogatePair(name, k) ? 2 : 1;
            int size = Encoding.UTF8.GetByteCount(name.AsSpan(k, width));
            if (bytes + size > MaxIdentifierBytes) break;
            bytes += size;
            k += width;
        }
        return name[..k];
    }

    private static int SkipSpaceAndComments(string sql, int i)
    {
        while (i < sql.Length)
        {
            if (IsSpace(sql[i])) i++;
            else if (sql[i] == '-' && At(sql, i + 1, '-')) i = SkipLine(sql, i);
            else if (sql[i] == '/' && At(sql, i + 1, '*')) i = SkipBlockComment(sql, i);
            else break;
        }
        return i;
    }

    /// <summary>A -- comment runs to the end of the line (\n or \r).</summary>
    private static int SkipLine(string sql, int i)
    {
        while (i < sql.Length && sql[i] is not ('\n' or '\r')) i++;
        return i;
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

    /// <summary>
    /// The content of a '...' run starting at the quote <paramref name="i"/> ('' is one quote), leaving
    /// <paramref name="i"/> past the closing quote. With <paramref name="backslashEscapes"/> (E'...'),
    /// a backslash takes the next character with it; the escapes are decoded later.
    /// </summary>
    private static string Unquote(string sql, ref int i, char quote, bool backslashEscapes = false)
    {
        int start = i++;
        var text = new StringBuilder();
        while (i < sql.Length)
        {
            char c = sql[i];
            if (backslashEscapes && c == '\\' && i + 1 < sql.Length)
            {
                text.Append(c).Append(sql[i + 1]);
                i += 2;
                continue;
            }
            if (c == quote)
            {
                if (At(sql, i + 1, quote)) { text.Append(quote); i += 2; continue; }
                i++;
                return text.ToString();
            }
            text.Append(c);
            i++;
        }
        throw new FormatException(quote == '"'
            ? $"unterminated quoted identifier at position {start + 1}"
            : $"unterminated quoted string at position {start + 1}");
    }

    /// <summary>
    /// 'a' followed by whitespace that holds a newline (and -- comments after it) and another 'b' is
    /// one string 'ab' (quotecontinue): the offset of that next quote, or -1.
    /// </summary>
    private static int Continuation(string sql, int i)
    {
        while (At(sql, i, c => c is ' ' or '\t' or '\f')) i++;
        if (!At(sql, i, c => c is '\n' or '\r')) return -1;
        while (i < sql.Length)
        {
            if (IsSpace(sql[i])) i++;
            else if (sql[i] == '-' && At(sql, i + 1, '-')) i = SkipLine(sql, i);
            else break;
        }
        return At(sql, i, '\'') ? i : -1;
    }

    /// <summary>A '...' string with an optional one-letter prefix (E, B, X, N) at <paramref name="start"/>; its quote is at <paramref name="quote"/>.</summary>
    private static SqlToken QuotedString(string sql, ref int i, int quote, SqlStringKind kind)
    {
        int start = i;
        i = quote;
        var raw = new StringBuilder(Unquote(sql, ref i, '\'', kind == SqlStringKind.Escape));
        for (int next = Continuation(sql, i); next >= 0; next = Continuation(sql, i))
        {
            i = next;
            raw.Append(Unquote(sql, ref i, '\'', kind == SqlStringKind.Escape));
        }
        var value = kind == SqlStringKind.Escape ? DecodeBackslashEscapes(raw.ToString(), start) : raw.ToString();
        return new SqlToken(SqlTokenKind.String, value, start, i, kind);
    }

    /// <summary>U&amp;'...' or U&amp;"...", with an optional UESCAPE 'c' after it (comments and whitespace may come between).</summary>
    private static SqlToken UnicodeToken(string sql, ref int i)
    {
        int start = i;
        bool identifier = sql[i + 2] == '"';
        i += 2;
        var raw = new StringBuilder(Unquote(sql, ref i, sql[start + 2]));
        if (!identifier)
            for (int next = Continuation(sql, i); next >= 0; next = Continuation(sql, i))
            {
                i = next;
                raw.Append(Unquote(sql, ref i, '\''));
            }

        char escape = '\\';
        int after = SkipSpaceAndComments(sql, i);
        if (after + 7 <= sql.Length && sql.AsSpan(after, 7).Equals("uescape", StringComparison.OrdinalIgnoreCase) && !At(sql, after + 7, IsIdentifierPart))
        {
            // PostgreSQL takes any plain string constant here; it must be one single-byte character.
            int at = SkipSpaceAndComments(sql, after + 7);
            var next = at < sql.Length ? Tokenize(sql[at..(NextTokenEnd(sql, at))]) : [];
            if (next is not [{ Kind: SqlTokenKind.String, StringKind: SqlStringKind.Plain or SqlStringKind.Escape or SqlStringKind.Dollar } escapeToken])
                throw new FormatException($"UESCAPE must be followed by a simple string literal at position {after + 1}");
            if (escapeToken.Value.Length != 1 || escapeToken.Value[0] >= 0x80 || !IsValidUnicodeEscapeChar(escapeToken.Value[0]))
                throw new FormatException($"invalid Unicode escape character at position {at + 1}");
            escape = escapeToken.Value[0];
            i = at + escapeToken.End;
        }

        var value = DecodeUnicodeEscapes(raw.ToString(), escape, start);
        if (!identifier) return new SqlToken(SqlTokenKind.String, value, start, i, SqlStringKind.Unicode);
        if (value.Length == 0) throw new FormatException($"zero-length delimited identifier at position {start + 1}");
        return new SqlToken(SqlTokenKind.QuotedIdentifier, Truncate(value), start, i);
    }

    /// <summary>Where the string constant that starts at <paramref name="at"/> ends (for reading UESCAPE's argument alone).</summary>
    private static int NextTokenEnd(string sql, int at)
    {
        int j = at;
        if ((sql[j] is 'E' or 'e') && At(sql, j + 1, '\'')) j++;
        if (sql[j] == '\'')
        {
            bool backslash = j > at;
            Unquote(sql, ref j, '\'', backslash);
            for (int next = Continuation(sql, j); next >= 0; next = Continuation(sql, j))
            {
                j = next;
                Unquote(sql, ref j, '\'', backslash);
            }
            return j;
        }
        if (sql[j] == '$' && DollarTag(sql, j) is { } tag)
        {
            int close = sql.IndexOf(tag, j + tag.Length, StringComparison.Ordinal);
            return close < 0 ? sql.Length : close + tag.Length;
        }
        return Math.Min(sql.Length, at + 1);
    }

    // check_uescapechar: not a hex digit, +, a quote or white space.
    private static bool IsValidUnicodeEscapeChar(char c) => !char.IsAsciiHexDigit(c) && c is not ('+' or '\'' or '"') && !IsSpace(c);

    /// <summary>U&amp; escapes: escape + 4 hex digits, escape + '+' + 6 hex digits, a doubled escape for itself; surrogate pairs combine.</summary>
    private static string DecodeUnicodeEscapes(string raw, char escape, int position)
    {
        var text = new StringBuilder();
        int pendingHigh = -1;
        for (int k = 0; k < raw.Length;)
        {
            if (raw[k] != escape)
            {
                if (pendingHigh >= 0) throw Invalid();
                text.Append(raw[k++]);
                continue;
            }
            if (At(raw, k + 1, escape)) { if (pendingHigh >= 0) throw Invalid(); text.Append(escape); k += 2; continue; }
            int digits = At(raw, k + 1, '+') ? 6 : 4;
            int from = k + (digits == 6 ? 2 : 1);
            if (from + digits > raw.Length || !raw.AsSpan(from, digits).ToString().All(char.IsAsciiHexDigit)) throw Invalid();
            int code = int.Parse(raw.AsSpan(from, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            k = from + digits;
            if (pendingHigh >= 0)
            {
                if (code is < 0xDC00 or > 0xDFFF) throw Invalid();
                text.Append(char.ConvertFromUtf32(0x10000 + ((pendingHigh - 0xD800) << 10) + (code - 0xDC00)));
                pendingHigh = -1;
            }
            else if (code is >= 0xD800 and <= 0xDBFF) pendingHigh = code;
            else if (code is 0 or >= 0xDC00 and <= 0xDFFF or > 0x10FFFF) throw Invalid();
            else text.Append(char.ConvertFromUtf32(code));
        }
        if (pendingHigh >= 0) throw Invalid();
        return text.ToString();

        FormatException Invalid() => new($"invalid Unicode escape in the string or identifier at position {position + 1}");
    }

    /// <summary>E'...' escapes: \b \f \n \r \t, \ooo and \xhh bytes (which must form UTF-8), \uXXXX, \UXXXXXXXX, and \c for any other c.</summary>
    private static string DecodeBackslashEscapes(string raw, int position)
    {
        var bytes = new List<byte>(raw.Length);
        void AddText(string s) => bytes.AddRange(Encoding.UTF8.GetBytes(s));
        for (int k = 0; k < raw.Length;)
        {
            char c = raw[k];
            if (c != '\\')
            {
                int width = char.IsSurrogatePair(raw, k) ? 2 : 1;
                AddText(raw.Substring(k, width));
                k += width;
                continue;
            }
            if (k + 1 >= raw.Length) throw Invalid();
            char e = raw[k + 1];
            k += 2;
            switch (e)
            {
                case 'b': bytes.Add(8); break;
                case 'f': bytes.Add(12); break;
                case 'n': bytes.Add(10); break;
                case 'r': bytes.Add(13); break;
                case 't': bytes.Add(9); break;
                case >= '0' and <= '7':
                {
                    int value = e - '0';
                    for (int n = 0; n < 2 && At(raw, k, ch => ch is >= '0' and <= '7'); n++) value = value * 8 + (raw[k++] - '0');
                    bytes.Add((byte)value);
                    break;
                }
                case 'x' when At(raw, k, char.IsAsciiHexDigit):
                {
                    int value = 0;
                    for (int n = 0; n < 2 && At(raw, k, char.IsAsciiHexDigit); n++) value = value * 16 + Convert.ToInt32(raw[k++].ToString(), 16);
                    bytes.Add((byte)value);
                    break;
                }
                case 'u' or 'U':
                {
                    int digits = e == 'u' ? 4 : 8;
                    if (k + digits > raw.Length || !raw.AsSpan(k, digits).ToString().All(char.IsAsciiHexDigit)) throw Invalid();
                    long code = long.Parse(raw.AsSpan(k, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    k += digits;
                    if (code is >= 0xD800 and <= 0xDBFF && At(raw, k, '\\') && At(raw, k + 1, 'u') && k + 6 <= raw.Length
                        && raw.AsSpan(k + 2, 4).ToString().All(char.IsAsciiHexDigit))
                    {
                        int low = int.Parse(raw.AsSpan(k + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        if (low is < 0xDC00 or > 0xDFFF) throw Invalid();
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        k += 6;
                    }
                    if (code is 0 or >= 0xD800 and <= 0xDFFF or > 0x10FFFF) throw Invalid();
                    AddText(char.ConvertFromUtf32((int)code));
                    break;
                }
                default:
                {
                    // \c is c itself, whatever c is (a surrogate pair stays whole).
                    int width = char.IsHighSurrogate(e) && k < raw.Length ? 2 : 1;
                    AddText(raw.Substring(k - 1, width));
                    k += width - 1;
                    break;
                }
            }
        }
        if (bytes.Contains(0)) throw new FormatException($"invalid byte sequence for encoding \"UTF8\": 0x00 in the string at position {position + 1}");
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"invalid byte sequence for encoding \"UTF8\" in the string at position {position + 1}");
        }

        FormatException Invalid() => new($"invalid escape in the string at position {position + 1}");
    }

    /// <summary>
    /// PostgreSQL 15's numeric constants: digits, digits.digits, .digits, with an optional exponent.
    /// A number running into an identifier character (123abc, 1e, 0x1F) is an error, as in PostgreSQL 15
    /// ("trailing junk after numeric literal"); 1..2 is 1 followed by "..".
    /// </summary>
    private static SqlToken Number(string sql, ref int i)
    {
        int start = i;
        while (At(sql, i, char.IsAsciiDigit)) i++;
        if (At(sql, i, '.') && !At(sql, i + 1, '.'))
        {
            i++;
            while (At(sql, i, char.IsAsciiDigit)) i++;
        }
        if (At(sql, i, c => c is 'e' or 'E'))
        {
            int exponent = i + 1;
            if (At(sql, exponent, c => c is '+' or '-')) exponent++;
            if (!At(sql, exponent, char.IsAsciiDigit)) throw new FormatException($"trailing junk after numeric literal at position {start + 1}");
            i = exponent;
            while (At(sql, i, char.IsAsciiDigit)) i++;
        }
        if (At(sql, i, IsIdentifierStart)) throw new FormatException($"trailing junk after numeric literal at position {start + 1}");
        return new SqlToken(SqlTokenKind.Number, sql[start..i], start, i);
    }

    /// <summary>An operator as scan.l cuts it from a run of operator characters.</summary>
    private static SqlToken Operator(string sql, ref int i)
    {
        int start = i, end = i;
        while (end < sql.Length && OperatorChars.Contains(sql[end])) end++;
        var run = sql[start..end];
        int length = run.Length;
        // A comment start inside the run ends the operator there.
        int comment = MinNonNegative(run.IndexOf("/*", StringComparison.Ordinal), run.IndexOf("--", StringComparison.Ordinal));
        if (comment >= 0) length = comment;
        // "+" and "-" may only end a multi-character operator that holds one of these (so 1*-2 is 1 * -2).
        if (length > 1 && run[length - 1] is '+' or '-' && run[..(length - 1)].IndexOfAny("~!@#^&|`?%".ToCharArray()) < 0)
            do length--; while (length > 1 && run[length - 1] is '+' or '-');
        i = start + length;
        var text = run[..length];
        return new SqlToken(SqlTokenKind.Symbol, text == "!=" ? "<>" : text, start, i);
    }

    private static int MinNonNegative(int a, int b) => a < 0 ? b : b < 0 ? a : Math.Min(a, b);

    /// <summary>The opening $tag$ of a dollar-quoted string at <paramref name="i"/>, or null.</summary>
    private static string? DollarTag(string sql, int i)
    {
        int j = i + 1;
        if (At(sql, j, '$')) return "$$";
        if (!At(sql, j, IsIdentifierStart)) return null;
        while (At(sql, j, c => IsIdentifierStart(c) || char.IsAsciiDigit(c))) j++;
        return At(sql, j, '$') ? sql[i..(j + 1)] : null;
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

    /// <summary>A name for a message: SQL spelling, control characters escaped, cut at 80 characters.</summary>
    public static string Show(string name)
    {
        var text = Quote(name.Length > 80 ? name[..80] + "…" : name);
        return string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
