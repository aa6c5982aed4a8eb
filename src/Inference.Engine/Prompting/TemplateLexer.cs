using System.Globalization;
using System.Text;

namespace Inference.Engine.Prompting;

internal enum TokenKind
{
    Text, LeftDelim, RightDelim, Space, Identifier, Field, Variable, Dot,
    String, Number, Bool, Nil, Pipe, LeftParen, RightParen, Declare, Assign, Char,
    If, Else, End, Range, With, Break, Continue, Define, Template, Block, Eof,
}

/// <summary>A lexical item. <see cref="Value"/> is the decoded value for strings and numbers.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Pos, object? Value = null);

/// <summary>
/// Splits template source into tokens the way Go's text/template/parse lexer does, including its
/// whitespace trimming rules: "{{- " removes all trailing white space (space, tab, CR, LF) from the text
/// before it and " -}}" removes all leading white space from the text after it. The marker needs the
/// adjacent space: "{{-3}}" is the number -3, not a trim marker.
/// </summary>
internal sealed class TemplateLexer
{
    private const string LeftDelim = "{{";
    private const string RightDelim = "}}";

    private static readonly Dictionary<string, TokenKind> Keywords = new()
    {
        ["if"] = TokenKind.If, ["else"] = TokenKind.Else, ["end"] = TokenKind.End,
        ["range"] = TokenKind.Range, ["with"] = TokenKind.With, ["break"] = TokenKind.Break,
        ["continue"] = TokenKind.Continue, ["define"] = TokenKind.Define, ["template"] = TokenKind.Template,
        ["block"] = TokenKind.Block, ["nil"] = TokenKind.Nil, ["true"] = TokenKind.Bool, ["false"] = TokenKind.Bool,
    };

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private int _pos;

    private TemplateLexer(string src) => _src = src;

    public static List<Token> Lex(string src)
    {
        var lexer = new TemplateLexer(src);
        lexer.LexText();
        return lexer._tokens;
    }

    /// <summary>Go's own notion of white space inside templates; Unicode spaces are not trimmed.</summary>
    internal static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static bool IsAlphaNumeric(char c) => c == '_' || char.IsLetterOrDigit(c);

    private void LexText()
    {
        while (true)
        {
            int delim = _src.IndexOf(LeftDelim, _pos, StringComparison.Ordinal);
            if (delim < 0)
            {
                Emit(TokenKind.Text, _src[_pos..], _pos);
                break;
            }

            bool trimLeft = HasLeftTrimMarker(delim + LeftDelim.Length);
            string text = _src[_pos..delim];
            if (trimLeft)
                text = text.TrimEnd(' ', '\t', '\r', '\n');
            Emit(TokenKind.Text, text, _pos);

            int afterMarker = delim + LeftDelim.Length + (trimLeft ? 2 : 0);
            if (string.CompareOrdinal(_src, afterMarker, "/*", 0, 2) == 0)
            {
                LexComment(delim, afterMarker);
                continue;
            }

            _tokens.Add(new Token(TokenKind.LeftDelim, LeftDelim, delim));
            _pos = afterMarker;
            LexInsideAction();
        }
        _tokens.Add(new Token(TokenKind.Eof, "", _src.Length));
    }

    private void Emit(TokenKind kind, string text, int pos)
    {
        if (kind != TokenKind.Text || text.Length > 0)
            _tokens.Add(new Token(kind, text, pos));
    }

    private bool HasLeftTrimMarker(int at) => at + 1 < _src.Length && _src[at] == '-' && IsSpace(_src[at + 1]);

    /// <summary>At "}}" or " -}}"? Returns the index just past the delimiter.</summary>
    private bool AtRightDelim(int at, out bool trim, out int end)
    {
        trim = at + 1 < _src.Length && IsSpace(_src[at]) && _src[at + 1] == '-'
            && string.CompareOrdinal(_src, at + 2, RightDelim, 0, 2) == 0;
        if (trim)
        {
            end = at + 2 + RightDelim.Length;
            return true;
        }
        end = at + RightDelim.Length;
        return string.CompareOrdinal(_src, at, RightDelim, 0, 2) == 0;
    }

    /// <summary>Moves past the right delimiter, skipping leading white space of the next text if trimmed.</summary>
    private void FinishAction(bool trim, int end)
    {
        _pos = end;
        if (trim)
            while (_pos < _src.Length && IsSpace(_src[_pos]))
                _pos++;
    }

    /// <summary>Comments are "{{/* ... */}}" (optionally with trim markers) and must fill the whole action.</summary>
    private void LexComment(int delim, int start)
    {
        int close = _src.IndexOf("*/", start + 2, StringComparison.Ordinal);
        if (close < 0)
            throw Error("unclosed comment", delim);
        if (!AtRightDelim(close + 2, out bool trim, out int end))
            throw Error("comment ends before closing delimiter", close);
        FinishAction(trim, end);
    }

    private void LexInsideAction()
    {
        int parenDepth = 0;
        while (true)
        {
            if (AtRightDelim(_pos, out bool trim, out int end))
            {
                if (parenDepth != 0)
                    throw Error("unclosed left paren", _pos);
                _tokens.Add(new Token(TokenKind.RightDelim, RightDelim, _pos));
                FinishAction(trim, end);
                return;
            }
            if (_pos >= _src.Length)
                throw Error("unclosed action", _pos);

            int start = _pos;
            char c = _src[_pos];
            switch (c)
            {
                case var _ when IsSpace(c):
                    int stop = _pos;
                    while (stop < _src.Length && IsSpace(_src[stop]))
                        stop++;
                    // If the run ends in " -}}", its last space belongs to the trim marker.
                    if (AtRightDelim(stop - 1, out bool trimmed, out _) && trimmed)
                        stop--;
                    _pos = stop;
                    _tokens.Add(new Token(TokenKind.Space, _src[start.._pos], start));
                    break;
                case '=':
                    _pos++;
                    _tokens.Add(new Token(TokenKind.Assign, "=", start));
                    break;
                case ':':
                    if (_pos + 1 >= _src.Length || _src[_pos + 1] != '=')
                        throw Error("expected :=", _pos);
                    _pos += 2;
                    _tokens.Add(new Token(TokenKind.Declare, ":=", start));
                    break;
                case '|':
                    _pos++;
                    _tokens.Add(new Token(TokenKind.Pipe, "|", start));
                    break;
                case '(':
                    _pos++;
                    parenDepth++;
                    _tokens.Add(new Token(TokenKind.LeftParen, "(", start));
                    break;
                case ')':
                    _pos++;
                    if (--parenDepth < 0)
                        throw Error("unexpected right paren", start);
                    _tokens.Add(new Token(TokenKind.RightParen, ")", start));
                    break;
                case '"':
                    LexQuote();
                    break;
                case '`':
                    LexRawQuote();
                    break;
                case '\'':
                    LexCharConstant();
                    break;
                case '$':
                    LexFieldOrVariable(TokenKind.Variable);
                    break;
                case '.' when _pos + 1 < _src.Length && !char.IsAsciiDigit(_src[_pos + 1]):
                    LexFieldOrVariable(TokenKind.Field);
                    break;
                case '.' or '+' or '-' or (>= '0' and <= '9'):
                    LexNumber();
                    break;
                case var _ when IsAlphaNumeric(c):
                    LexIdentifier();
                    break;
                case var _ when c <= 0x7f && !char.IsControl(c):
                    _pos++;
                    _tokens.Add(new Token(TokenKind.Char, c.ToString(), start));
                    break;
                default:
                    throw Error($"unrecognized character in action: U+{(int)c:X4}", _pos);
            }
        }
    }

    /// <summary>True where a word may end: space, punctuation that separates operands, or the right delimiter.</summary>
    private bool AtTerminator()
    {
        if (_pos >= _src.Length)
            return true;
        char c = _src[_pos];
        return IsSpace(c) || c is '.' or ',' or '|' or ':' or ')' or '('
            || string.CompareOrdinal(_src, _pos, RightDelim, 0, 2) == 0;
    }

    private void CheckTerminator()
    {
        if (!AtTerminator())
            throw Error($"bad character U+{(int)_src[_pos]:X4} '{_src[_pos]}'", _pos);
    }

    private void LexIdentifier()
    {
        int start = _pos;
        while (_pos < _src.Length && IsAlphaNumeric(_src[_pos]))
            _pos++;
        CheckTerminator();
        string word = _src[start.._pos];
        _tokens.Add(new Token(Keywords.GetValueOrDefault(word, TokenKind.Identifier), word, start));
    }

    /// <summary>".Name" is a field, a lone "." is dot; "$name" is a variable, a lone "$" is the root variable.</summary>
    private void LexFieldOrVariable(TokenKind kind)
    {
        int start = _pos++;
        if (AtTerminator())
        {
            _tokens.Add(new Token(kind == TokenKind.Field ? TokenKind.Dot : TokenKind.Variable, _src[start.._pos], start));
            return;
        }
        while (_pos < _src.Length && IsAlphaNumeric(_src[_pos]))
            _pos++;
        CheckTerminator();
        _tokens.Add(new Token(kind, _src[start.._pos], start));
    }

    private void LexQuote()
    {
        int start = _pos++;
        while (true)
        {
            if (_pos >= _src.Length || _src[_pos] == '\n')
                throw Error("unterminated quoted string", start);
            char c = _src[_pos++];
            if (c == '\\' && _pos < _src.Length && _src[_pos] != '\n')
                _pos++;
            else if (c == '"')
                break;
        }
        string raw = _src[start.._pos];
        _tokens.Add(new Token(TokenKind.String, raw, start, Unquote(raw[1..^1], '"', start)));
    }

    private void LexRawQuote()
    {
        int start = _pos;
        int close = _src.IndexOf('`', start + 1);
        if (close < 0)
            throw Error("unterminated raw quoted string", start);
        _pos = close + 1;
        // Like Go's strconv.Unquote, carriage returns are dropped from raw strings.
        _tokens.Add(new Token(TokenKind.String, _src[start.._pos], start, _src[(start + 1)..close].Replace("\r", "")));
    }

    /// <summary>'x' is a rune constant: an integer, as in Go.</summary>
    private void LexCharConstant()
    {
        int start = _pos++;
        while (true)
        {
            if (_pos >= _src.Length || _src[_pos] == '\n')
                throw Error("unterminated character constant", start);
            char c = _src[_pos++];
            if (c == '\\' && _pos < _src.Length && _src[_pos] != '\n')
                _pos++;
            else if (c == '\'')
                break;
        }
        string raw = _src[start.._pos];
        string decoded = Unquote(raw[1..^1], '\'', start);
        // Exactly one code point: one non-surrogate char or one surrogate pair.
        if (Rune.DecodeFromUtf16(decoded, out var rune, out int used) != System.Buffers.OperationStatus.Done || used != decoded.Length)
            throw Error($"malformed character constant: {raw}", start);
        _tokens.Add(new Token(TokenKind.Number, raw, start, (long)rune.Value));
    }

    /// <summary>Decimal and hex integers, and decimal floats; underscores between digits are allowed as in Go.</summary>
    private void LexNumber()
    {
        int start = _pos;
        if (_src[_pos] is '+' or '-')
            _pos++;
        bool hex = _pos + 1 < _src.Length && _src[_pos] == '0' && _src[_pos + 1] is 'x' or 'X';
        if (hex)
        {
            _pos += 2;
            while (_pos < _src.Length && (char.IsAsciiHexDigit(_src[_pos]) || _src[_pos] == '_'))
                _pos++;
        }
        else
        {
            SkipDigits();
            if (_pos < _src.Length && _src[_pos] == '.')
            {
                _pos++;
                SkipDigits();
            }
            if (_pos < _src.Length && _src[_pos] is 'e' or 'E')
            {
                _pos++;
                if (_pos < _src.Length && _src[_pos] is '+' or '-')
                    _pos++;
                SkipDigits();
            }
        }
        string text = _src[start.._pos];
        if (_pos < _src.Length && (IsAlphaNumeric(_src[_pos]) || _src[_pos] == '.'))
            throw Error($"bad number syntax: \"{text}{_src[_pos]}\"", start);
        _tokens.Add(new Token(TokenKind.Number, text, start, ParseNumber(text, hex, start)));
    }

    private void SkipDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || _src[_pos] == '_'))
            _pos++;
    }

    private object ParseNumber(string text, bool hex, int at)
    {
        string clean = text.Replace("_", "");
        bool negative = clean.StartsWith('-');
        string unsigned = clean.TrimStart('+', '-');
        if (hex)
        {
            if (long.TryParse(unsigned[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long h) && h >= 0)
                return negative ? -h : h;
        }
        else if (unsigned.IndexOfAny(['.', 'e', 'E']) < 0)
        {
            if (long.TryParse(clean, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                return l;
        }
        else if (unsigned.Length > 0 && unsigned != "." && double.TryParse(clean, NumberStyles.Float, CultureInfo.InvariantCulture, out double d))
        {
            return d;
        }
        throw Error($"bad number syntax: \"{text}\"", at);
    }

    /// <summary>Go (strconv.Unquote) escapes: \a \b \f \n \r \t \v \\ \" \' \xHH \ooo \uHHHH \UHHHHHHHH.</summary>
    private string Unquote(string body, char quote, int at)
    {
        if (!body.Contains('\\'))
            return body;
        var sb = new StringBuilder(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] != '\\')
            {
                sb.Append(body[i]);
                continue;
            }
            char e = ++i < body.Length ? body[i] : '\0';
            switch (e)
            {
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case '\\': sb.Append('\\'); break;
                case var _ when e == quote: sb.Append(quote); break;
                case 'x': sb.Append((char)HexEscape(body, ref i, 2, at)); break;
                case 'u': sb.Append(char.ConvertFromUtf32(HexEscape(body, ref i, 4, at))); break;
                case 'U': sb.Append(char.ConvertFromUtf32(HexEscape(body, ref i, 8, at))); break;
                case >= '0' and <= '7' when i + 2 < body.Length:
                    int octal = Convert.ToInt32(body.Substring(i, 3), 8);
                    if (octal > 255)
                        throw Error("invalid syntax in quoted string", at);
                    sb.Append((char)octal);
                    i += 2;
                    break;
                default:
                    throw Error("invalid syntax in quoted string", at);
            }
        }
        return sb.ToString();
    }

    private int HexEscape(string body, ref int i, int digits, int at)
    {
        if (i + digits >= body.Length)
            throw Error("invalid syntax in quoted string", at);
        string hex = body.Substring(i + 1, digits);
        if (!int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value)
            || value > 0x10FFFF || (value is >= 0xD800 and <= 0xDFFF))
            throw Error("invalid syntax in quoted string", at);
        i += digits;
        return value;
    }

    private TemplateParseException Error(string message, int pos) => SourceText.ParseError(_src, message, pos);
}

/// <summary>Maps character offsets to 1-based line/column for error messages.</summary>
internal static class SourceText
{
    public static (int Line, int Column) LineColumn(string src, int pos)
    {
        pos = Math.Clamp(pos, 0, src.Length);
        int line = 1, lineStart = 0;
        for (int i = 0; i < pos; i++)
        {
            if (src[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, pos - lineStart + 1);
    }

    public static TemplateParseException ParseError(string src, string message, int pos)
    {
        var (line, column) = LineColumn(src, pos);
        return new TemplateParseException(message, line, column);
    }
}
