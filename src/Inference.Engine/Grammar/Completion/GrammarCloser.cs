using System.Buffers;
using System.Text;
using Inference.Engine.Grammar.Checking;

namespace Inference.Engine.Grammar.Completion;

/// <summary>What to do with a sampled token so that the document can always be closed within the budget.</summary>
internal enum CloseAction
{
    /// <summary>Emit the token; the document can still be finished in the tokens left after it.</summary>
    Accept,
    /// <summary>Emit <see cref="CloseDecision.Text"/> instead of the token and finish.</summary>
    CloseInstead,
    /// <summary>Emit the token (it completes a character already partly sent), then <see cref="CloseDecision.Text"/>, and finish.</summary>
    CloseAfter,
}

internal readonly record struct CloseDecision(CloseAction Action, string Text = "", int Tokens = 0);

/// <summary>
/// Follows one sequence's output through its grammar (llama.cpp's stacks, in managed code, fed each token's
/// bytes) and keeps the invariant: the shortest text that finishes the document fits in the tokens left.
/// Before a token is accepted it checks the completion after it; when that no longer fits, the sequence
/// emits the current completion instead, so a budget that runs out closes the document rather than cutting it.
/// </summary>
internal sealed class GrammarCloser
{
    /// <summary>Tokens kept back while a multi-byte character is partly out: its at most 3 remaining bytes.</summary>
    private const int CharacterReserve = 3;

    private readonly ShortestCompletion _table;
    private readonly Func<string, int> _countTokens;
    private HashSet<int[]> _stacks;
    /// <summary>Bytes of a character whose first bytes came with earlier tokens (llama.cpp's partial_utf8).</summary>
    private byte[] _pending = [];
    /// <summary>Tokens of the current state's completion when known (it is counted only when the budget is tight).</summary>
    private int? _currentTokens;

    /// <param name="countTokens">Tokens the model's tokenizer makes of a text (what emitting it costs).</param>
    public GrammarCloser(string grammar, Func<string, int> countTokens)
    {
        _table = ShortestCompletion.For(grammar);
        _countTokens = countTokens;
        _stacks = _table.Matcher.Start();
    }

    /// <summary>
    /// Set when the output left the grammar as this follower reads it (it cannot follow llama.cpp any more):
    /// the sequence then stops closing rather than emit a completion built on a wrong state.
    /// </summary>
    public bool Lost { get; private set; }

    /// <summary>
    /// The characters the grammar allows next, or null when that cannot be told from whole characters (one is
    /// partly out) or the follower lost track.
    /// </summary>
    public FirstCharacters? NextCharacters() => Lost || _pending.Length > 0 ? null : _first ??= _table.FirstOf(_stacks);

    private FirstCharacters? _first;

    /// <summary>The bytes of a character partly out (empty on a character boundary): what the next token must finish.</summary>
    public ReadOnlySpan<byte> Pending => _pending;

    /// <summary>The shortest text that finishes the document from here, and its tokens.</summary>
    public (string Text, int Tokens) Current()
    {
        var (stack, _) = _table.Best(_stacks);
        var text = stack is null ? "" : _table.TextOf(stack);
        return (text, _countTokens(text));
    }

    /// <summary>
    /// What finishes the document when the budget is spent: the current completion, or nothing while a character
    /// is partly out (the reserve kept for it makes that happen only below the shortest document).
    /// </summary>
    public (string Text, int Tokens)? Rest() => _pending.Length > 0 ? null : Current();

    /// <summary>
    /// Decides on a sampled token given its bytes and the tokens that may still follow it. Accept and
    /// CloseAfter advance the state; CloseInstead leaves it as it was.
    /// </summary>
    public CloseDecision Next(ReadOnlySpan<byte> token, int leftAfter)
    {
        var bytes = new byte[_pending.Length + token.Length];
        _pending.CopyTo(bytes, 0);
        token.CopyTo(bytes.AsSpan(_pending.Length));
        var stacks = _stacks;
        int used = 0;
        while (used < bytes.Length)
        {
            var status = Rune.DecodeFromUtf8(bytes.AsSpan(used), out var rune, out int n);
            if (status == OperationStatus.NeedMoreData) break;
            if (status != OperationStatus.Done) return LoseTrack();
            stacks = _table.Matcher.Accept(stacks, (uint)rune.Value);
            if (stacks.Count == 0) return LoseTrack();
            used += n;
        }
        var pending = bytes[used..];
        bool midCharacter = _pending.Length > 0;

        var (best, cost) = _table.Best(stacks);
        int reserve = pending.Length > 0 ? CharacterReserve : 0;
        // int.MaxValue: only following (the request does not close), every token is taken.
        if (leftAfter == int.MaxValue || best is not null && Fits(best, cost, leftAfter - reserve))
        {
            Commit(stacks, pending);
            return new CloseDecision(CloseAction.Accept);
        }
        if (best is not null && !midCharacter && !CurrentFits(leftAfter + 1))
        {
            // The budget was below the shortest document from the start (a cap smaller than the minimal
            // document): the model goes on while each token brings the end closer, so the answer never takes
            // more tokens than the minimal document would (a model's multi-character tokens finish sooner).
            int after = _countTokens(_table.TextOf(best));
            if (after + 1 + reserve <= CurrentTokens())
            {
                Commit(stacks, pending, after);
                return new CloseDecision(CloseAction.Accept);
            }
        }
        if (!midCharacter)
        {
            var (text, tokens) = Current();
            return new CloseDecision(CloseAction.CloseInstead, text, tokens);
        }
        // Part of this character is already out and cannot be taken back: finish the character, then close.
        Commit(stacks, pending);
        if (pending.Length > 0) return new CloseDecision(CloseAction.Accept);
        var rest = best is null ? "" : _table.TextOf(best);
        return new CloseDecision(CloseAction.CloseAfter, rest, _countTokens(rest));
    }

    /// <summary>Tokens of the current completion, counted at most once per state.</summary>
    private int CurrentTokens() => _currentTokens ??= Current().Tokens;

    private bool CurrentFits(int left)
    {
        var (stack, bytes) = _table.Best(_stacks);
        if (stack is null || left < 0) return false;
        return bytes + 1 <= left || CurrentTokens() <= left;
    }

    private void Commit(HashSet<int[]> stacks, byte[] pending, int? tokens = null)
    {
        _stacks = stacks;
        _pending = pending;
        _currentTokens = tokens;
        _first = null;
    }

    private CloseDecision LoseTrack()
    {
        Lost = true;
        return new CloseDecision(CloseAction.Accept);
    }

    /// <summary>Whether the completion fits in <paramref name="left"/> tokens; tokenizes only when its bytes alone cannot tell.</summary>
    private bool Fits(int[] stack, long bytes, int left)
    {
        if (left < 0) return false;
        // A token is at least one byte; one more for the space some tokenizers put in front of a text.
        if (bytes + 1 <= left) return true;
        return _countTokens(_table.TextOf(stack)) <= left;
    }
}
