using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

/// <summary>The lexer normalizes exactly as PostgreSQL does before anything is checked (no database needed).</summary>
public sealed class SqlLexerTests
{
    private static List<(SqlTokenKind Kind, string Value)> Tokens(string sql) => SqlLexer.Tokenize(sql).Select(t => (t.Kind, t.Value)).ToList();

    private static SqlToken Single(string sql) => Assert.Single(SqlLexer.Tokenize(sql));

    [Fact]
    public void Tokens_keep_strings_identifiers_and_comments_apart()
    {
        var tokens = Tokens("SELECT \"Weird\"\"Name\", E'a\\'b;', $q$ x;y $q$, 'it''s', U&\"d\\0061t\" -- tail;\n/* a /* b */ c; */ FROM T1 WHERE x::text = $1;");
        Assert.Equal(
            [
                (SqlTokenKind.Word, "select"), (SqlTokenKind.QuotedIdentifier, "Weird\"Name"), (SqlTokenKind.Symbol, ","),
                (SqlTokenKind.String, "a'b;"), (SqlTokenKind.Symbol, ","), (SqlTokenKind.String, " x;y "), (SqlTokenKind.Symbol, ","),
                (SqlTokenKind.String, "it's"), (SqlTokenKind.Symbol, ","), (SqlTokenKind.QuotedIdentifier, "dat"),
                (SqlTokenKind.Word, "from"), (SqlTokenKind.Word, "t1"), (SqlTokenKind.Word, "where"), (SqlTokenKind.Word, "x"),
                (SqlTokenKind.Symbol, "::"), (SqlTokenKind.Word, "text"), (SqlTokenKind.Symbol, "="), (SqlTokenKind.Parameter, "$1"),
                (SqlTokenKind.Semicolon, ";"),
            ],
            tokens);
    }

    [Theory]
    [InlineData("U&\"pg_\\0072ead_file\"", "pg_read_file")]
    [InlineData("U&\"set_\\0063onfig\"", "set_config")]
    [InlineData("u&\"query_\\0074o_xml\"", "query_to_xml")]
    [InlineData("U&\"d!0061t!+000061\" UESCAPE '!'", "data")]
    [InlineData("U&\"d!0061t\" /* c */ uescape -- c\n '!'", "dat")]
    [InlineData("U&\"a\\\\b\"", "a\\b")]
    [InlineData("U&\"a!!b\" UESCAPE '!'", "a!b")]
    [InlineData("U&\"\\D83D\\DE00\"", "😀")]
    [InlineData("U&\"PG_\\0052EAD\"", "PG_READ")] // quoted: no case folding
    public void Unicode_escaped_identifiers_are_decoded_and_not_folded(string sql, string name)
    {
        var token = Single(sql);
        Assert.Equal(SqlTokenKind.QuotedIdentifier, token.Kind);
        Assert.Equal(name, token.Value);
        Assert.Equal(sql.Length, token.End);
    }

    [Theory]
    [InlineData("U&'d\\0061t\\+000061'", "data")]
    [InlineData("U&'x#0041' UESCAPE '#'", "xA")]
    [InlineData("U&'a'\n'\\0062'", "ab")] // continuation lines follow the first part's rules
    public void Unicode_escaped_strings_are_decoded(string sql, string value)
    {
        var token = Single(sql);
        Assert.Equal((SqlTokenKind.String, SqlStringKind.Unicode, value), (token.Kind, token.StringKind, token.Value));
    }

    [Theory]
    [InlineData("U&\"a\\00\"")]                 // too few digits
    [InlineData("U&\"a\\0000\"")]               // zero is no character
    [InlineData("U&\"\\D83D\"")]                // a lone surrogate
    [InlineData("U&\"a!0061\" UESCAPE 'a'")]   // a hex digit cannot be the escape
    [InlineData("U&\"a\" UESCAPE '+'")]
    [InlineData("U&\"a\" UESCAPE 'ab'")]
    [InlineData("U&\"a\" UESCAPE x")]
    [InlineData("\"\"")]                       // zero-length identifier
    [InlineData("'unterminated")]
    [InlineData("/* /* nested */ unterminated")]
    [InlineData("$$ unterminated")]
    [InlineData("E'\\xff'")]                    // not UTF-8
    [InlineData("E'\\0'")]                      // NUL
    [InlineData("SELECT 123abc")]               // trailing junk after a number (PostgreSQL 15)
    [InlineData("SELECT 0x1F")]
    [InlineData("SELECT 1e")]
    [InlineData("SELECT $1abc")]
    [InlineData("SELECT 1\v")]                  // \v is not white space in PostgreSQL 15
    [InlineData("SELECT \u0001")]
    public void Malformed_text_is_an_error(string sql)
    {
        Assert.Throws<FormatException>(() => SqlLexer.Tokenize(sql));
    }

    [Theory]
    [InlineData("SELECT", "select")]
    [InlineData("PG_READ_FILE", "pg_read_file")]
    [InlineData("Größe", "größe")]   // only ASCII letters fold in a UTF-8 database
    [InlineData("ÆØÅ", "ÆØÅ")]
    [InlineData("a$b_1", "a$b_1")]
    public void Unquoted_names_fold_ascii_letters_only(string sql, string name)
    {
        Assert.Equal((SqlTokenKind.Word, name), (Single(sql).Kind, Single(sql).Value));
    }

    [Fact]
    public void Names_are_truncated_to_63_bytes_as_PostgreSQL_does()
    {
        Assert.Equal(new string('a', 63), Single(new string('A', 70)).Value);
        Assert.Equal(new string('q', 63), Single("\"" + new string('q', 64) + "\"").Value);
        // A two-byte character that would straddle byte 63 is dropped whole.
        Assert.Equal(new string('a', 62), Single(new string('a', 62) + "é" + "bbb").Value);
    }

    [Theory]
    [InlineData("E'a\\nb'", "a\nb")]
    [InlineData("e'\\t\\b\\f\\r'", "\t\b\f\r")]
    [InlineData("E'\\101\\x42\\u0043\\U00000044'", "ABCD")]
    [InlineData("E'\\xc3\\xa9'", "é")]       // bytes that form UTF-8
    [InlineData("E'\\q\\\\'", "q\\")]         // \c is c
    [InlineData("E'it\\'s'", "it's")]
    [InlineData("E'a' \n 'b\\n'", "ab\n")]    // a continued E-string keeps its escapes
    public void Escape_strings_are_decoded(string sql, string value)
    {
        var token = Single(sql);
        Assert.Equal((SqlStringKind.Escape, value), (token.StringKind, token.Value));
    }

    [Theory]
    [InlineData("'a\\nb'", "a\\nb", SqlStringKind.Plain)]            // standard_conforming_strings: \ is a character
    [InlineData("'a'\n  -- note\n'b'", "ab", SqlStringKind.Plain)]     // continuation across a newline and a comment
    [InlineData("$$it's$$", "it's", SqlStringKind.Dollar)]
    [InlineData("$tag$ $$ 'x' $tag$", " $$ 'x' ", SqlStringKind.Dollar)]
    [InlineData("$ä$x$ä$", "x", SqlStringKind.Dollar)]
    [InlineData("B'101'", "101", SqlStringKind.Bit)]
    [InlineData("X'1F'", "1F", SqlStringKind.Hex)]
    [InlineData("N'abc'", "abc", SqlStringKind.National)]
    public void Other_string_forms(string sql, string value, SqlStringKind kind)
    {
        var token = Single(sql);
        Assert.Equal((SqlTokenKind.String, kind, value), (token.Kind, token.StringKind, token.Value));
    }

    [Fact]
    public void Strings_on_one_line_stay_two_tokens()
    {
        Assert.Equal([(SqlTokenKind.String, "a"), (SqlTokenKind.String, "b")], Tokens("'a' 'b'"));
        Assert.Equal([(SqlTokenKind.String, "a"), (SqlTokenKind.String, "b")], Tokens("'a' /* c */\n'b'"));
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("1.5", "1.5")]
    [InlineData(".5", ".5")]
    [InlineData("1.", "1.")]
    [InlineData("1e10", "1e10")]
    [InlineData("1.5E-3", "1.5E-3")]
    [InlineData("1.e+5", "1.e+5")]
    public void Numeric_forms(string sql, string value)
    {
        Assert.Equal((SqlTokenKind.Number, value), (Single(sql).Kind, Single(sql).Value));
    }

    [Theory]
    [InlineData("1..2", "1|..|2")]
    [InlineData("a<-b", "a|<|-|b")]          // - cannot end <-, so it is < then unary -
    [InlineData("a*-1", "a|*|-|1")]
    [InlineData("a@-1", "a|@-|1")]           // ... unless the operator holds @ ~ ! # % ^ & | ` ?
    [InlineData("a!=b", "a|<>|b")]
    [InlineData("a||b", "a|\\|\\||b")]
    [InlineData("a+--c\n b", "a|+|b")]       // a comment start ends an operator
    [InlineData("a</*c*/b", "a|<|b")]
    [InlineData("a::int", "a|::|int")]
    [InlineData("a~~b", "a|~~|b")]
    public void Operators_are_split_as_PostgreSQL_splits_them(string sql, string expected)
    {
        Assert.Equal(expected.Replace("\\|", "\u0001").Split('|').Select(p => p.Replace('\u0001', '|')), SqlLexer.Tokenize(sql).Select(t => t.Value));
    }

    [Theory]
    [InlineData("SELECT 1 -- \0\n, pg_read_file('x')", "invalid byte sequence for encoding \"UTF8\": 0x00 at position 13")]
    [InlineData("SELECT '\0'", "invalid byte sequence for encoding \"UTF8\": 0x00 at position 9")]
    // {high} and {low}: lone surrogates, put in at run time (attribute data holds only well-formed text).
    [InlineData("SELECT \"pg_read_fil{high}e\"('x')", "invalid character at position 20: a lone UTF-16 surrogate (U+D800) is no Unicode character")]
    [InlineData("SELECT 1 /* {low} */", "invalid character at position 13: a lone UTF-16 surrogate (U+DC00) is no Unicode character")]
    public void Text_PostgreSQL_would_receive_differently_is_refused_even_in_comments_and_strings(string sql, string error)
    {
        // A NUL ends the query text on the wire; a lone surrogate arrives as U+FFFD: what is checked must be what runs.
        sql = sql.Replace("{high}", "\ud800").Replace("{low}", "\udc00");
        Assert.Equal(error, Assert.Throws<FormatException>(() => SqlLexer.Tokenize(sql)).Message);
        Assert.Equal([(SqlTokenKind.Word, "select"), (SqlTokenKind.String, "😀")], Tokens("SELECT '😀'"));
    }

    [Fact]
    public void Non_ascii_white_space_is_part_of_a_name_as_in_PostgreSQL()
    {
        Assert.Equal([(SqlTokenKind.Word, "select\u00a0x")], Tokens("SELECT\u00a0x"));
    }
}
