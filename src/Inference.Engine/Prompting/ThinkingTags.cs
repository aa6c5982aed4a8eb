namespace Inference.Engine.Prompting;

/// <summary>
/// The tags around a model's reasoning, and whether the model can think at all (Ollama's "thinking" capability).
/// For a Go template this is Ollama's heuristic (thinking/template.go, InferTags): find <c>.Thinking</c> inside a
/// range over <c>.Messages</c>; the nearest list around it that starts and ends with text gives the tags, e.g.
/// <c>{{ if .Thinking }}&lt;think&gt;{{ .Thinking }}&lt;/think&gt;{{ end }}</c>. A GGUF chat template (applied by
/// llama.cpp) that writes both &lt;think&gt; and &lt;/think&gt; thinks in those tags, as Ollama decides for it.
/// </summary>
public sealed record ThinkingTags(string Opening, string Closing)
{
    public static ThinkingTags Think { get; } = new("<think>", "</think>");

    /// <summary>The tags a Go template shows reasoning in, or null when it shows none (the model cannot think).</summary>
    public static ThinkingTags? Infer(GoTemplate template)
    {
        string opening = "", closing = "";
        var ancestors = new List<Node>();
        Visit(template.Root, ancestors, ref opening, ref closing);
        return opening.Length > 0 && closing.Length > 0 ? new ThinkingTags(opening, closing) : null;
    }

    /// <summary>For a chat template llama.cpp applies (Jinja): both tags written in it, as Ollama's chatTemplateHasThinkingSupport.</summary>
    public static ThinkingTags? InChatTemplate(string chatTemplate) =>
        chatTemplate.Contains("<think>", StringComparison.Ordinal) && chatTemplate.Contains("</think>", StringComparison.Ordinal) ? Think : null;

    // Depth-first like Go's parse tree walk; every .Thinking found overwrites the tags found before (as in Ollama).
    private static void Visit(Node? node, List<Node> ancestors, ref string opening, ref string closing)
    {
        if (node is null) return;
        ancestors.Add(node);
        switch (node)
        {
            case ListNode list:
                foreach (var child in list.Nodes) Visit(child, ancestors, ref opening, ref closing);
                break;
            case IfNode n:
                Branch(n.Pipe, n.List, n.ElseList, ancestors, ref opening, ref closing);
                break;
            case WithNode n:
                Branch(n.Pipe, n.List, n.ElseList, ancestors, ref opening, ref closing);
                break;
            case RangeNode n:
                Branch(n.Pipe, n.List, n.ElseList, ancestors, ref opening, ref closing);
                break;
            case ActionNode action:
                Visit(action.Pipe, ancestors, ref opening, ref closing);
                break;
            case PipeNode pipe:
                foreach (var cmd in pipe.Cmds) Visit(cmd, ancestors, ref opening, ref closing);
                break;
            case CommandNode cmd:
                foreach (var arg in cmd.Args) Visit(arg, ancestors, ref opening, ref closing);
                break;
            case FieldNode field when field.Ident is ["Thinking", ..]:
                Found(ancestors, ref opening, ref closing);
                break;
        }
        ancestors.RemoveAt(ancestors.Count - 1);
    }

    private static void Branch(PipeNode pipe, ListNode list, ListNode? elseList, List<Node> ancestors, ref string opening, ref string closing)
    {
        Visit(pipe, ancestors, ref opening, ref closing);
        Visit(list, ancestors, ref opening, ref closing);
        Visit(elseList, ancestors, ref opening, ref closing);
    }

    private static void Found(List<Node> ancestors, ref string opening, ref string closing)
    {
        var range = ancestors.OfType<RangeNode>().LastOrDefault();
        if (range is null || !UsesMessages(range.Pipe)) return;
        var list = ancestors.OfType<ListNode>().LastOrDefault();
        if (list is not { Nodes.Count: > 0 }) return;
        if (list.Nodes[0] is TextNode first) opening = first.Text.Trim();
        if (list.Nodes[^1] is TextNode last) closing = last.Text.Trim();
    }

    // Parenthesized pipelines count too: "range (slice .Messages 1)" ranges over the messages.
    private static bool UsesMessages(PipeNode pipe) =>
        pipe.Cmds.Any(c => c.Args.Any(a => a is FieldNode { Ident: ["Messages", ..] } || a is PipeNode inner && UsesMessages(inner)));
}
