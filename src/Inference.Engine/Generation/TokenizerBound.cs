using System.Text;
using LLama.Native;

namespace Inference.Engine.Generation;

/// <summary>
/// How much text a number of tokens can hold, so text that can never fit a context is refused by
/// its length before anything tokenizes it (tokenizing 15 MB takes seconds on the request thread).
/// <para>
/// For segmenting tokenizers (SentencePiece, byte-level BPE, RWKV) the tokens of a text are pieces
/// that together spell it (plus, at most, an added leading space), so each token covers at most
/// <see cref="BytesPerToken"/> bytes of it: the longest piece in the vocabulary. (SentencePiece
/// writes every space as U+2581 before it matches pieces, so a text may spell a piece's space as
/// that 3-byte character itself: there each space of a piece counts 3 bytes.) A text of B bytes
/// then needs at least B / BytesPerToken tokens, and one longer than num_ctx × BytesPerToken bytes
/// cannot fit in num_ctx tokens. The bound is exact in that direction: it never refuses a text that
/// would fit. WordPiece and Unigram tokenizers normalize first (dropping whitespace, folding
/// characters, one [UNK] per unknown word), so a token can stand for more text than its piece; for
/// them the bound is a policy of <see cref="NormalizingBytesPerToken"/> bytes per token (<see cref="Exact"/> is false).
/// </para>
/// </summary>
public sealed record TokenizerBound(int BytesPerToken, bool Exact)
{
    /// <summary>Bytes per token allowed for normalizing tokenizers, whose tokens have no exact bound.</summary>
    public const int NormalizingBytesPerToken = 256;

    /// <summary>UTF-8 bytes that <paramref name="tokens"/> tokens can hold at most.</summary>
    public long MaxBytes(int tokens) => (long)Math.Max(tokens, 0) * BytesPerToken;

    /// <summary>
    /// Whether <paramref name="text"/> can fit in <paramref name="tokens"/> tokens, judged by its length
    /// alone: UTF-16 length first (never more than the UTF-8 length, so a long string is refused
    /// without reading it), then the UTF-8 length of one that is short enough.
    /// </summary>
    public bool CanFit(string text, int tokens)
    {
        long max = MaxBytes(tokens);
        return text.Length <= max && Encoding.UTF8.GetByteCount(text) <= max;
    }

    /// <summary>
    /// The refusal for text that cannot fit, worded like the refusal after tokenizing ("the input
    /// length (...) exceeds the context length (N tokens)"), with the token count the length proves.
    /// </summary>
    public InputTooLongException TooLong(string what, string text, int tokens) => TooLong(what, Encoding.UTF8.GetByteCount(text), tokens, exactly: true);

    /// <summary>For text known only to be longer than <paramref name="bytes"/> bytes (a render stopped there).</summary>
    public InputTooLongException TooLong(string what, long bytes, int tokens, bool exactly) =>
        new($"{what} length ({(exactly ? "" : "more than ")}{bytes} bytes" +
            (Exact ? $", so at least {(bytes + (exactly ? 0 : 1) + BytesPerToken - 1) / BytesPerToken} tokens at {BytesPerToken} bytes per token, the longest in the model's vocabulary)"
                   : $"; this server allows {BytesPerToken} bytes per token for the model's normalizing tokenizer)") +
            $" exceeds the context length ({tokens} tokens)");

    /// <summary>The bound for a loaded model's vocabulary (a pass over its tokens, done once per load).</summary>
    public static TokenizerBound Of(SafeLlamaModelHandle model)
    {
        var vocab = model.Vocab;
        bool exact = vocab.Type is LLamaVocabType.SentencePiece or LLamaVocabType.BytePairEncoding or LLamaVocabType.RWKV;
        bool spaceIsWritten = vocab.Type == LLamaVocabType.SentencePiece;
        var piece = new byte[512];
        long longest = 1;
        for (int i = 0; i < vocab.Count; i++)
        {
            // special: true renders control tokens as their text, which is how a prompt with special tokens spells them.
            int size = (int)Math.Min(model.TokenToSpan((LLamaToken)i, piece, 0, special: true), int.MaxValue / 4);
            if (size > piece.Length)
            {
                piece = new byte[size];
                size = (int)model.TokenToSpan((LLamaToken)i, piece, 0, special: true);
            }
            long covers = size;
            if (spaceIsWritten) covers += 2L * piece.AsSpan(0, size).Count((byte)' ');
            longest = Math.Max(longest, covers);
        }
        int bytes = (int)Math.Min(longest, int.MaxValue / 2);
        return exact ? new TokenizerBound(bytes, true) : new TokenizerBound(Math.Max(bytes, NormalizingBytesPerToken), false);
    }
}

/// <summary>Client text longer than the model's context can hold, refused before it was tokenized.</summary>
public sealed class InputTooLongException(string message) : Exception(message);
