using System.Text;
using System.Text.Json;

namespace Inference.Engine.Tools;

/// <summary>What the parser lets out after a piece of text: content for the client, and calls completed.</summary>
public readonly record struct ToolParse(string Content, IReadOnlyList<ToolCall> Calls)
{
    public bool IsEmpty => Content.Length == 0 && Calls.Count == 0;
}

/// <summary>
/// Splits generated text into content and tool calls while it streams, the way Ollama's tools parser does.
/// Text before the format's trigger (e.g. <c>&lt;tool_call&gt;</c>) passes through, except a possibly
/// partial trigger at its end, which is held back. From the trigger on, text is held until complete JSON
/// objects naming a known function have been read as calls (up to the closing tag, after which text passes
/// through again). When what follows the trigger is not calls, everything held is given back as content and
/// parsing stops. For bare-JSON formats (trigger "{") only output that starts with "{" or "[" is parsed, as in
/// Ollama. Besides the format's own shape it reads calls as JSON lists, with "parameters" instead of
/// "arguments", with arguments as a JSON string, or wrapped as <c>{"function": {...}}</c>.
/// </summary>
public sealed class ToolCallParser(ToolCallFormat format, IEnumerable<string> functionNames)
{
    private enum State { Looking, Calling, Done }

    private readonly string _trigger = format.Trigger;
    private readonly string _closing = format.Closing;
    private readonly bool _bareJson = format.Trigger == "{";
    private readonly HashSet<string> _names = new(functionNames, StringComparer.Ordinal);
    private readonly StringBuilder _held = new();
    private State _state;
    private int _position;   // while Calling: how far into _held calls and separators have been read
    private int _blockCalls; // calls read since the trigger
    private int _calls;      // calls read in the whole response (their Index)

    /// <summary>Feeds the next generated text.</summary>
    public ToolParse Add(string text)
    {
        if (_state == State.Done) return new(text, []);
        _held.Append(text);
        return Advance(final: false);
    }

    /// <summary>The generation ended: gives out whatever is still held (an unfinished call comes back as content).</summary>
    public ToolParse Finish() => Advance(final: true);

    private ToolParse Advance(bool final)
    {
        var content = new StringBuilder();
        var calls = new List<ToolCall>();
        while (Step(final, content, calls)) { }
        return new(content.ToString(), calls);
    }

    /// <summary>One state transition; false when nothing more can be decided until more text (or the end) comes.</summary>
    private bool Step(bool final, StringBuilder content, List<ToolCall> calls)
    {
        switch (_state)
        {
            case State.Done:
                content.Append(_held);
                _held.Clear();
                return false;
            case State.Looking when _bareJson:
                return LookAtStart(final, content);
            case State.Looking:
                return LookForTrigger(final, content);
            default:
                return ReadCalls(final, content, calls);
        }
    }

    private bool LookAtStart(bool final, StringBuilder content)
    {
        string text = _held.ToString();
        int first = 0;
        while (first < text.Length && char.IsWhiteSpace(text[first])) first++;
        if (first == text.Length)
        {
            // Only whitespace so far: it may still precede a call.
            if (final) _state = State.Done;
            return final;
        }
        if (text[first] is '{' or '[') Begin(first);
        else _state = State.Done;
        return true;
    }

    private bool LookForTrigger(bool final, StringBuilder content)
    {
        string text = _held.ToString();
        int at = text.IndexOf(_trigger, StringComparison.Ordinal);
        if (at >= 0)
        {
            content.Append(text, 0, at);
            _held.Remove(0, at);
            Begin(_trigger.Length);
            return true;
        }
        int keep = final ? 0 : PartialTrigger(text);
        content.Append(text, 0, text.Length - keep);
        _held.Remove(0, text.Length - keep);
        return false;
    }

    private void Begin(int position)
    {
        _state = State.Calling;
        _position = position;
        _blockCalls = 0;
    }

    private bool ReadCalls(bool final, StringBuilder content, List<ToolCall> calls)
    {
        string block = _held.ToString();
        while (true)
        {
            while (_position < block.Length && (char.IsWhiteSpace(block[_position]) || block[_position] is ',' or '[' or ']')) _position++;
            string rest = block[_position..];
            if (rest.Length == 0) return final ? GiveUp(block, content) : false;

            if (rest[0] == '{')
            {
                int end = ObjectEnd(block, _position);
                if (end < 0) return final ? GiveUp(block, content) : false;
                if (ReadCall(block[_position..end]) is not { } call) return GiveUp(block, content);
                calls.Add(call);
                _blockCalls++;
                _position = end;
                continue;
            }

            if (_closing.Length > 0 && _blockCalls > 0 && (rest.StartsWith(_closing, StringComparison.Ordinal) || (final && _closing.StartsWith(rest, StringComparison.Ordinal))))
            {
                // The calls are closed: later text is content again, and may hold another block of calls.
                _held.Remove(0, Math.Min(block.Length, _position + _closing.Length));
                _state = State.Looking;
                return true;
            }
            if (!final && _closing.StartsWith(rest, StringComparison.Ordinal)) return false;
            return GiveUp(block, content);
        }
    }

    /// <summary>
    /// What follows is not (or no longer) calls: without any call read, the whole block was content after all;
    /// otherwise the text after the last call is. Either way parsing stops.
    /// </summary>
    private bool GiveUp(string block, StringBuilder content)
    {
        content.Append(_blockCalls == 0 ? block : block[_position..]);
        _held.Clear();
        _state = State.Done;
        return false;
    }

    private ToolCall? ReadCall(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return ReadCall(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private ToolCall? ReadCall(JsonElement call)
    {
        if (call.ValueKind != JsonValueKind.Object) return null;
        if (!call.TryGetProperty("name", out var name) && call.TryGetProperty("function", out var function)) return ReadCall(function);
        if (name.ValueKind != JsonValueKind.String || !_names.Contains(name.GetString()!)) return null;
        string key = call.TryGetProperty("arguments", out _) ? "arguments" : "parameters";
        if (ToolCall.ArgumentsOf(call, key) is not { } arguments) return null;
        return new ToolCall(name.GetString()!, arguments, _calls++, ToolCall.NewId());
    }

    /// <summary>The index just after the JSON object starting at <paramref name="start"/>, or -1 while it is unfinished.</summary>
    private static int ObjectEnd(string text, int start)
    {
        int depth = 0;
        bool inString = false, escaped = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (escaped) escaped = false;
            else if (inString && c == '\\') escaped = true;
            else if (c == '"') inString = !inString;
            else if (!inString && c == '{') depth++;
            else if (!inString && c == '}' && --depth == 0) return i + 1;
        }
        return -1;
    }

    /// <summary>How many characters at the end of <paramref name="text"/> could be the start of the trigger.</summary>
    private int PartialTrigger(string text)
    {
        for (int length = Math.Min(_trigger.Length - 1, text.Length); length > 0; length--)
        {
            if (text.EndsWith(_trigger[..length], StringComparison.Ordinal)) return length;
        }
        return 0;
    }
}
