namespace Inference.Engine.Prompting;

/// <summary>
/// An Ollama prompt template: the subset of Go's text/template that model templates use.
/// Supported: text, actions with fields (.A.B, $.A, $x.A), variables ($x := / $x =), comments, trim markers,
/// if/else if/else, range (with else, break, continue, one or two variables), with/else with, pipelines,
/// parenthesized pipelines, string/raw string/char/number/bool/nil constants, and the functions
/// and, or, not, len, index, slice, print, printf, println, eq, ne, lt, le, gt, ge, json, currentDate, yesterdayDate.
/// Not supported: define, template, block, and the html, js, urlquery and call functions.
/// </summary>
public sealed class GoTemplate
{
    private readonly string _source;
    private readonly ListNode _root;
    private readonly HashSet<string> _identifiers;

    private GoTemplate(string source, ListNode root)
    {
        _source = source;
        _root = root;
        _identifiers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        CollectIdentifiers(root, _identifiers);
    }

    /// <summary>Parses a template. Throws <see cref="TemplateParseException"/> on syntax errors.</summary>
    public static GoTemplate Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new GoTemplate(text, TemplateParser.Parse(text));
    }

    /// <summary>The template source.</summary>
    public string Source => _source;

    /// <summary>Whether the template refers to <c>.Messages</c> (chat-style template).</summary>
    public bool UsesMessages => _identifiers.Contains("Messages");

    /// <summary>Whether the template refers to <c>.System</c>.</summary>
    public bool UsesSystem => _identifiers.Contains("System");

    /// <summary>Whether the template refers to <c>.Suffix</c> (supports fill-in-the-middle).</summary>
    public bool UsesSuffix => _identifiers.Contains("Suffix");

    /// <summary>Whether the template refers to <c>.Tools</c>.</summary>
    public bool UsesTools => _identifiers.Contains("Tools");

    /// <summary>The parsed template, for analyses such as <see cref="ThinkingTags.Infer"/>.</summary>
    internal ListNode Root => _root;

    /// <summary>Whether the template refers to <c>.Response</c>.</summary>
    public bool UsesResponse => _identifiers.Contains("Response");

    /// <summary>
    /// Renders the template. Throws <see cref="TemplateRenderException"/> on execution errors, and
    /// <see cref="TemplateLimitException"/> when the render passes one of <see cref="TemplateLimits"/>
    /// or writes more than <paramref name="maxOutputChars"/> characters.
    /// </summary>
    public string Render(TemplateData data, int maxOutputChars = TemplateLimits.MaxOutputChars) => Render(data, TimeProvider.System, maxOutputChars);

    /// <summary>Renders with an explicit clock (used by currentDate and yesterdayDate, and for the time limit).</summary>
    public string Render(TemplateData data, TimeProvider timeProvider, int maxOutputChars = TemplateLimits.MaxOutputChars)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return TemplateEvaluator.Render(_source, _root, data, timeProvider, maxOutputChars);
    }

    public override string ToString() => _source;

    /// <summary>
    /// Collects every field name used anywhere, like Ollama's template.Vars: ".Messages", "$.Messages" and
    /// ".X.Messages" all count, case-insensitively; a variable named "$system" does not count as System.
    /// </summary>
    private static void CollectIdentifiers(Node? node, HashSet<string> names)
    {
        switch (node)
        {
            case ListNode list:
                foreach (var child in list.Nodes)
                    CollectIdentifiers(child, names);
                break;
            case ActionNode action:
                CollectIdentifiers(action.Pipe, names);
                break;
            case IfNode n:
                CollectBranch(n.Pipe, n.List, n.ElseList, names);
                break;
            case WithNode n:
                CollectBranch(n.Pipe, n.List, n.ElseList, names);
                break;
            case RangeNode n:
                CollectBranch(n.Pipe, n.List, n.ElseList, names);
                break;
            case PipeNode pipe:
                foreach (var cmd in pipe.Cmds)
                    foreach (var arg in cmd.Args)
                        CollectIdentifiers(arg, names);
                break;
            case FieldNode field:
                names.UnionWith(field.Ident);
                break;
            case VariableNode variable:
                names.UnionWith(variable.Ident);
                break;
            case ChainNode chain:
                CollectIdentifiers(chain.Node, names);
                names.UnionWith(chain.Fields);
                break;
        }
    }

    private static void CollectBranch(PipeNode pipe, ListNode list, ListNode? elseList, HashSet<string> names)
    {
        CollectIdentifiers(pipe, names);
        CollectIdentifiers(list, names);
        CollectIdentifiers(elseList, names);
    }
}
