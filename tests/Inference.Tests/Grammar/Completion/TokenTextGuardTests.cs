using Inference.Engine.Grammar.Completion;
using LLama.Native;

namespace Inference.Tests.Grammar.Completion;

/// <summary>
/// Which tokens a grammar's output may take (TokenTextGuard): the sequences llama.cpp's lenient UTF-8 decoding lets
/// through a negated class (lead bytes F5..FF, surrogates, code points above U+10FFFF, overlong forms, stray
/// continuation bytes) are refused; every valid one, byte by byte or in multi-byte tokens, is allowed.
/// </summary>
public sealed class TokenTextGuardTests(GrammarModels models) : IClassFixture<GrammarModels>
{
    // A small vocabulary: the single byte tokens, a few multi-byte ones, a control token and an end of generation.
    private static readonly byte[][] Vocabulary =
    [
        .. Enumerable.Range(0, 256).Select(b => new[] { (byte)b }),
        "ab"u8.ToArray(), // 256
        "é"u8.ToArray(), // 257: C3 A9
        [0xA9, (byte)'x'], // 258: the end of a character, then more text
        [0xE2, 0x82], // 259: the start of "€" (E2 82 AC), as byte-level BPE vocabularies cut it
        [0x82, 0xAC, (byte)'!'], // 260
        [], // 261: the control token (its text is not emitted)
        [], // 262: end of generation
        [(byte)'a', 0xFF], // 263: text, then an invalid byte
    ];

    private static readonly byte[][] GrammarTexts = [.. Vocabulary.Take(261), "<s>"u8.ToArray(), [], Vocabulary[263]];

    private static readonly TokenTextGuard Guard = TokenTextGuard.Of(Vocabulary, GrammarTexts, i => i == 262);

    [Theory]
    [InlineData(0x41, true)]
    [InlineData(0x7F, true)]
    [InlineData(0xC2, true)]
    [InlineData(0xE0, true)]
    [InlineData(0xED, true)]
    [InlineData(0xF0, true)]
    [InlineData(0xF4, true)]
    [InlineData(0x80, false)] // a continuation byte with nothing to continue
    [InlineData(0xBF, false)]
    [InlineData(0xC0, false)] // only overlong forms start with C0/C1
    [InlineData(0xC1, false)]
    [InlineData(0xF5, false)] // above U+10FFFF
    [InlineData(0xF8, false)]
    [InlineData(0xFF, false)] // the byte of issue 12's repro (tiny, get-current-weather, seed 2)
    public void On_a_character_boundary_a_byte_token_is_allowed_when_it_can_start_a_character(int b, bool allowed) =>
        Assert.Equal(allowed, Guard.Allowed([])[b]);

    [Fact]
    public void On_a_character_boundary_multi_byte_tokens_are_judged_whole()
    {
        var allowed = Guard.Allowed([]);
        Assert.True(allowed[256]);
        Assert.True(allowed[257]);
        Assert.False(allowed[258]); // starts with a continuation byte
        Assert.True(allowed[259]); // a valid start of a character, finished by a later token
        Assert.False(allowed[260]);
        Assert.False(allowed[261]); // llama.cpp's grammar would read "<s>", the output would not hold it
        Assert.True(allowed[262]); // end of generation: the grammar alone decides
        Assert.False(allowed[263]);
    }

    [Theory]
    [InlineData(new byte[] { 0xE0 }, 0x9F, false)] // overlong: E0 80..9F
    [InlineData(new byte[] { 0xE0 }, 0xA0, true)]
    [InlineData(new byte[] { 0xED }, 0x9F, true)]
    [InlineData(new byte[] { 0xED }, 0xA0, false)] // a surrogate: ED A0..BF
    [InlineData(new byte[] { 0xF0 }, 0x8F, false)] // overlong: F0 80..8F
    [InlineData(new byte[] { 0xF0 }, 0x90, true)]
    [InlineData(new byte[] { 0xF4 }, 0x8F, true)]
    [InlineData(new byte[] { 0xF4 }, 0x90, false)] // above U+10FFFF
    [InlineData(new byte[] { 0xC3 }, 0xA9, true)]
    [InlineData(new byte[] { 0xC3 }, 0x41, false)] // the character is left unfinished
    [InlineData(new byte[] { 0xE2, 0x82 }, 0xAC, true)]
    [InlineData(new byte[] { 0xE2, 0x82 }, 0xE2, false)]
    public void After_part_of_a_character_only_its_valid_continuations_are_allowed(byte[] pending, int b, bool allowed) =>
        Assert.Equal(allowed, Guard.Allowed(pending)[b]);

    [Fact]
    public void After_part_of_a_character_a_multi_byte_token_must_finish_it_exactly_then_be_valid()
    {
        var afterC3 = Guard.Allowed([0xC3]);
        Assert.True(afterC3[258]); // A9 'x': finishes "é", then text
        Assert.False(afterC3[256]);
        Assert.False(afterC3[260]); // 82 AC: one continuation byte too many for a two-byte character
        Assert.True(afterC3[262]);
        Assert.False(afterC3[261]);
        var afterE2 = Guard.Allowed([0xE2]);
        Assert.True(afterE2[260]); // 82 AC '!': finishes "€"
        Assert.True(afterE2[0x82]); // one byte more, still unfinished
        Assert.False(afterE2[258]); // A9 then 'x': "€" left unfinished
    }

    /// <summary>The Llama 2 vocabulary as llama.cpp renders it: byte tokens &lt;0x00&gt;..&lt;0xFF&gt; at 3..258, &lt;s&gt; a control token.</summary>
    [Fact]
    public void The_llama2_vocabulary_refuses_the_byte_ff_and_the_bos_text_and_allows_words()
    {
        var model = models.TinyRandom.NativeHandle;
        var guard = TokenTextGuard.For(model);
        var boundary = guard.Allowed([]);
        // "▁the": SentencePiece puts the space in front itself.
        var the = (int)model.Tokenize("the", false, false, System.Text.Encoding.UTF8).Single();
        Assert.True(boundary[the]);
        Assert.True(boundary[3 + 'a']);
        Assert.True(boundary[3 + 0xE2]);
        Assert.False(boundary[3 + 0xFF]);
        Assert.False(boundary[3 + 0x80]);
        Assert.False(boundary[(int)model.Vocab.BOS!.Value]);
        Assert.True(boundary[(int)model.Vocab.EOS!.Value]);
        var afterE2 = guard.Allowed([0xE2]);
        Assert.True(afterE2[3 + 0x82]);
        Assert.False(afterE2[3 + 'a']);
        Assert.False(afterE2[the]);
    }
}
