using System.Text;
using Inference.Engine.Prompting;

namespace Inference.Engine.Generation;

/// <summary>
/// Splits a model's output, piece by piece as it streams, into reasoning (between the thinking tags) and content,
/// with Ollama's rules (thinking/parser.go): leading whitespace before the opening tag, right after it and right
/// after the closing tag is dropped; output that does not start with the opening tag is all content. A tag may
/// arrive split over several pieces, so text that could still be the start of a tag is held back until the next
/// piece decides it (<see cref="Finish"/> releases what is left at the end).
/// </summary>
public sealed class ThinkingSplitter(ThinkingTags tags)
{
    private enum State
    {
        /// <summary>Only whitespace so far: the output may still open with the tag.</summary>
        LookingForOpening,
        /// <summary>The opening tag was seen; whitespace after it is dropped.</summary>
        ThinkingStarted,
        Thinking,
        /// <summary>The closing tag was seen; whitespace after it is dropped.</summary>
        ThinkingDone,
        /// <summary>Everything from here on is content.</summary>
        Content,
    }

    private readonly StringBuilder _held = new();
    private State _state = State.LookingForOpening;

    public ThinkingTags Tags { get; } = tags;

    /// <summary>True once the output's reasoning has ended (or it turned out to have none).</summary>
    public bool ThinkingEnded => _state is State.ThinkingDone or State.Content;

    /// <summary>The reasoning and the content this piece makes certain (either may be empty; text may be held back).</summary>
    public (string Thinking, string Content) Add(string piece)
    {
        if (_state == State.Content && _held.Length == 0) return ("", piece);
        _held.Append(piece);
        var thinking = new StringBuilder();
        var content = new StringBuilder();
        while (Step(thinking, content))
        {
        }
        return (thinking.ToString(), content.ToString());
    }

    /// <summary>
    /// The end of the output: text held back as a possible tag is what it looked like. An unfinished opening tag
    /// (or only whitespace) is content; reasoning never closed stays reasoning, as Ollama leaves it.
    /// </summary>
    public (string Thinking, string Content) Finish()
    {
        string rest = _held.ToString();
        _held.Clear();
        return _state switch
        {
            State.Thinking or State.ThinkingStarted => (rest, ""),
            State.ThinkingDone => ("", rest.TrimStart()),
            _ => ("", rest),
        };
    }

    /// <summary>One transition over the held text; true when another may follow at once.</summary>
    private bool Step(StringBuilder thinking, StringBuilder content)
    {
        string held = _held.ToString();
        switch (_state)
        {
            case State.LookingForOpening:
            {
                string trimmed = held.TrimStart();
                if (trimmed.StartsWith(Tags.Opening, StringComparison.Ordinal))
                {
                    Hold(trimmed[Tags.Opening.Length..].TrimStart());
                    _state = _held.Length == 0 ? State.ThinkingStarted : State.Thinking;
                    return true;
                }
                // A partial opening tag, or only whitespace: wait for more.
                if (Tags.Opening.StartsWith(trimmed, StringComparison.Ordinal)) return false;
                // No reasoning: the output is content, its leading whitespace included.
                _state = State.Content;
                Hold("");
                content.Append(held);
                return false;
            }
            case State.ThinkingStarted:
            {
                string trimmed = held.TrimStart();
                Hold(trimmed);
                if (trimmed.Length == 0) return false;
                _state = State.Thinking;
                return true;
            }
            case State.Thinking:
            {
                int close = held.IndexOf(Tags.Closing, StringComparison.Ordinal);
                if (close >= 0)
                {
                    thinking.Append(held, 0, close);
                    string after = held[(close + Tags.Closing.Length)..].TrimStart();
                    Hold("");
                    content.Append(after);
                    _state = after.Length == 0 ? State.ThinkingDone : State.Content;
                    return false;
                }
                // Hold back the end that could be the start of the closing tag.
                int partial = PartialTagAtEnd(held, Tags.Closing);
                thinking.Append(held, 0, held.Length - partial);
                Hold(held[^partial..]);
                return false;
            }
            case State.ThinkingDone:
            {
                string trimmed = held.TrimStart();
                Hold("");
                content.Append(trimmed);
                if (trimmed.Length > 0) _state = State.Content;
                return false;
            }
            default:
                Hold("");
                content.Append(held);
                return false;
        }
    }

    private void Hold(string text) => _held.Clear().Append(text);

    /// <summary>The length of the longest end of <paramref name="text"/> that begins <paramref name="tag"/>.</summary>
    private static int PartialTagAtEnd(string text, string tag)
    {
        for (int n = Math.Min(tag.Length, text.Length); n > 0; n--)
            if (text.AsSpan(text.Length - n).SequenceEqual(tag.AsSpan(0, n))) return n;
        return 0;
    }
}
