using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using LLama.Native;

namespace Inference.Engine.Grammar.Completion;

/// <summary>
/// Which tokens a grammar-constrained sequence may take so that what llama.cpp's grammar reads is exactly the text
/// that is emitted and followed (<see cref="GrammarCloser"/>). llama.cpp's grammar decodes UTF-8 leniently: a lone
/// byte token such as &lt;0xFF&gt;, a surrogate (ED A0..), a code point above U+10FFFF or an overlong form passes a
/// negated class like a JSON string's <c>[^"\\]</c>. The emitted text then holds U+FFFD in their place (more characters
/// than the grammar counted, so maxLength and patterns no longer hold) and the follower, which decodes strictly, cannot
/// follow: the document was no longer closed at the end of its budget (issue 12: tiny, get-current-weather, seed 2).
/// Control tokens that are not end-of-generation are the same kind of mismatch: llama.cpp's grammar reads their text
/// ("&lt;s&gt;") while the detokenizer emits nothing. Refusing both keeps the output valid UTF-8 that the grammar,
/// the detokenizer and the follower read alike.
/// </summary>
internal sealed class TokenTextGuard
{
    private static readonly ConditionalWeakTable<SafeLlamaModelHandle, TokenTextGuard> PerModel = new();

    /// <summary>Per token: whether it may follow output that ends on a character boundary.</summary>
    private readonly bool[] _alone;
    /// <summary>Per token: its continuation bytes (10xxxxxx) before anything else, at most 4 kept (more is invalid anyway).</summary>
    private readonly byte[][] _leading;
    /// <summary>Per token: whether what follows its leading continuation bytes is a valid UTF-8 prefix.</summary>
    private readonly bool[] _restValid;
    /// <summary>Per token: its text is only continuation bytes (a byte token such as &lt;0x80&gt;).</summary>
    private readonly bool[] _allContinuation;
    /// <summary>Per token: its text is empty (end of generation and the like: llama.cpp's grammar decides alone).</summary>
    private readonly bool[] _empty;
    /// <summary>Per token: a control token whose text llama.cpp's grammar reads but the detokenizer does not emit.</summary>
    private readonly bool[] _hidden;

    private TokenTextGuard(IReadOnlyList<byte[]> visible, IReadOnlyList<byte[]> grammarText, Func<int, bool> endOfGeneration)
    {
        int n = visible.Count;
        _alone = new bool[n];
        _leading = new byte[n][];
        _restValid = new bool[n];
        _empty = new bool[n];
        _allContinuation = new bool[n];
        _hidden = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var bytes = visible[i];
            _empty[i] = bytes.Length == 0;
            _hidden[i] = !endOfGeneration(i) && !bytes.AsSpan().SequenceEqual(grammarText[i]);
            int c = 0;
            while (c < bytes.Length && IsContinuation(bytes[c])) c++;
            _leading[i] = bytes[..Math.Min(c, 4)];
            _allContinuation[i] = c > 0 && c == bytes.Length;
            _restValid[i] = c <= 3 && IsValidPrefix(bytes.AsSpan(c));
            _alone[i] = !_hidden[i] && (_empty[i] || c == 0 && _restValid[i]);
        }
    }

    /// <summary>The guard for a model's vocabulary, built once per model.</summary>
    public static TokenTextGuard For(SafeLlamaModelHandle model) => PerModel.GetValue(model, Build);

    /// <summary>For tests: a vocabulary given as each token's emitted text and the text llama.cpp's grammar reads.</summary>
    internal static TokenTextGuard Of(IReadOnlyList<byte[]> visible, IReadOnlyList<byte[]> grammarText, Func<int, bool> endOfGeneration) =>
        new(visible, grammarText, endOfGeneration);

    private static TokenTextGuard Build(SafeLlamaModelHandle model)
    {
        int n = model.Vocab.Count;
        var visible = new byte[n][];
        var grammarText = new byte[n][];
        for (int i = 0; i < n; i++)
        {
            visible[i] = PieceOf(model, i, special: false);
            // llama.cpp's grammar reads the piece with special tokens rendered (its token-to-piece cache).
            grammarText[i] = PieceOf(model, i, special: true);
        }
        return new(visible, grammarText, i => ((LLamaToken)i).IsEndOfGeneration(model.Vocab));
    }

    private static byte[] PieceOf(SafeLlamaModelHandle model, int token, bool special)
    {
        Span<byte> buffer = stackalloc byte[128];
        int n = (int)model.TokenToSpan((LLamaToken)token, buffer, 0, special);
        if (n <= buffer.Length) return buffer[..n].ToArray();
        var large = new byte[n];
        model.TokenToSpan((LLamaToken)token, large, 0, special);
        return large;
    }

    /// <summary>
    /// The tokens allowed after <paramref name="pending"/>, the bytes of a character partly out (empty on a character
    /// boundary): a token must finish that character with valid bytes, then be valid UTF-8 (its last character may be
    /// partial). The table for a boundary is shared; one for a partial character is made per call (rare: byte tokens).
    /// </summary>
    public bool[] Allowed(ReadOnlySpan<byte> pending)
    {
        if (pending.Length == 0) return _alone;
        var allowed = new bool[_alone.Length];
        // A pending character holds 1 to 3 bytes, and its leading bytes keep at most 4.
        Span<byte> joined = stackalloc byte[8];
        pending[..Math.Min(pending.Length, 4)].CopyTo(joined);
        int need = SequenceLength(pending[0]) - pending.Length;
        for (int i = 0; i < allowed.Length; i++)
        {
            if (_hidden[i]) continue;
            if (_empty[i])
            {
                allowed[i] = true;
                continue;
            }
            var leading = _leading[i];
            // The token's leading continuation bytes must finish the pending character exactly (no stray byte after
            // it), unless the token is only continuation bytes and leaves it still unfinished.
            bool fits = _allContinuation[i] ? leading.Length <= need : leading.Length == need && _restValid[i];
            if (!fits || leading.Length == 0) continue;
            leading.CopyTo(joined[pending.Length..]);
            allowed[i] = IsValidPrefix(joined[..(pending.Length + leading.Length)]);
        }
        return allowed;
    }

    private static bool IsContinuation(byte b) => (b & 0xC0) == 0x80;

    /// <summary>Bytes in a UTF-8 sequence that starts with <paramref name="lead"/> (0 for a byte that cannot start one).</summary>
    private static int SequenceLength(byte lead) => lead switch
    {
        < 0x80 => 1,
        < 0xC2 => 0,
        < 0xE0 => 2,
        < 0xF0 => 3,
        < 0xF5 => 4,
        _ => 0,
    };

    /// <summary>Whether the bytes are valid UTF-8 except that the last character may be unfinished (a prefix of a valid one).</summary>
    internal static bool IsValidPrefix(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            var status = Rune.DecodeFromUtf8(bytes, out _, out int used);
            if (status == OperationStatus.NeedMoreData) return true;
            if (status != OperationStatus.Done) return false;
            bytes = bytes[used..];
        }
        return true;
    }
}
