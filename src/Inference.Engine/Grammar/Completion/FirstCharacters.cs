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

    /// <summary>Token classes (<see cref="ClassOf"/>): no known text, then one per first byte, then one per byte after a leading space.</summary>
    public const int Classes = 1 + 256 + 257;

    /// <summary>
    /// A token's class from its first and second bytes (-1: none): 0 when it has no known text, 1 + first byte
    /// when that is not a space, 257 + 1 + second byte (-1: a lone space) after a space. Computed once per token,
    /// so that the per-step check is one table read.
    /// </summary>
    public static ushort ClassOf(short first, short second) =>
        (ushort)(first < 0 ? 0 : first != ' ' ? first + 1 : 257 + second + 1);

    private byte[]? _passByClass;

    /// <summary>
    /// <see cref="MayStartWith(short, short)"/> per token class, 1 or 0: the sampler checks every token of the
    /// vocabulary at each step, and adding a 0/1 instead of branching on it keeps that loop free of mispredictions.
    /// </summary>
    public byte[] PassByClass()
    {
        if (_passByClass is null)
        {
            var table = new byte[Classes];
            table[0] = 1;
            for (short b = 0; b < 256; b++)
                if (b != ' ') table[ClassOf(b, -1)] = MayStartWith(b, -1) ? (byte)1 : (byte)0;
            for (short second = -1; second < 256; second++)
                table[ClassOf((short)' ', second)] = MayStartWith((short)' ', second) ? (byte)1 : (byte)0;
            _passByClass = table;
        }
        return _passByClass;
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
