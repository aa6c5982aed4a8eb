namespace Inference.Engine.Grammar.Completion;

/// <summary>What the next character may be, by class of first byte: a token that begins otherwise cannot be accepted.</summary>
internal enum NonAsciiFirst : byte
{
    /// <summary>Some stack accepts every character from U+0080 on (e.g. a JSON string's negated class).</summary>
    All,
    /// <summary>No stack accepts any character from U+0080 on.</summary>
    None,
    /// <summary>Some do, some do not: only llama.cpp's check can tell.</summary>
    Some,
}

/// <summary>
/// The characters the grammar allows next, from the tops of its parse stacks: a necessary condition for a token
/// (its first character must be one of them), checked in managed code so that llama.cpp's grammar check runs only
/// on tokens that pass it. In structural positions (after a JSON value only ',' '}' ']' or spaces) that leaves a
/// few hundred of a 32,000-token vocabulary.
/// </summary>
internal sealed class FirstCharacters(bool[] ascii, NonAsciiFirst nonAscii, FirstCharacters? afterSpace = null)
{
    /// <summary>
    /// Whether a token whose text starts with <paramref name="first"/> then <paramref name="second"/> (-1: none) may
    /// be accepted. The second character is checked after a space only: SentencePiece vocabularies begin about half
    /// their tokens with one, and where the grammar allows a space (JSON's whitespace) they would all pass otherwise.
    /// </summary>
    public bool MayStartWith(short first, short second) =>
        MayStartWith(first) && (first != ' ' || second < 0 || afterSpace is null || afterSpace.MayStartWith(second));

    private bool[]? _firstTable, _afterSpaceTable;

    /// <summary>
    /// The same answers as lookup tables, indexed by a token's first byte + 1 and its second byte + 1 (0 = none):
    /// the sampler checks every token of the vocabulary at each step, so each check is two array reads.
    /// </summary>
    public (bool[] First, bool[] SecondAfterSpace) Tables()
    {
        if (_firstTable is null)
        {
            var first = new bool[257];
            var second = new bool[257];
            for (short b = -1; b < 256; b++)
            {
                first[b + 1] = MayStartWith(b);
                second[b + 1] = b < 0 || afterSpace is null || afterSpace.MayStartWith(b);
            }
            (_firstTable, _afterSpaceTable) = (first, second);
        }
        return (_firstTable, _afterSpaceTable!);
    }

    public bool[] Ascii => ascii;
    public NonAsciiFirst NonAscii => nonAscii;

    /// <summary>Whether a token whose text starts with byte <paramref name="first"/> may be accepted (-1: no text, let llama.cpp decide).</summary>
    public bool MayStartWith(short first) => first switch
    {
        < 0 => true,
        < 0x80 => ascii[first],
        // A lone continuation byte: llama.cpp's UTF-8 decoding of it is its own affair.
        < 0xC0 => true,
        _ => nonAscii != NonAsciiFirst.None,
    };
}
