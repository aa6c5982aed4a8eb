namespace Inference.Engine.Prompting;

// The node tree, shaped like Go's text/template/parse nodes. Pos is a character offset into the source.
internal abstract record Node(int Pos);
internal sealed record ListNode(int Pos, List<Node> Nodes) : Node(Pos);
internal sealed record TextNode(int Pos, string Text) : Node(Pos);
internal sealed record ActionNode(int Pos, PipeNode Pipe) : Node(Pos);
internal sealed record IfNode(int Pos, PipeNode Pipe, ListNode List, ListNode? ElseList) : Node(Pos);
internal sealed record WithNode(int Pos, PipeNode Pipe, ListNode List, ListNode? ElseList) : Node(Pos);
internal sealed record RangeNode(int Pos, PipeNode Pipe, ListNode List, ListNode? ElseList) : Node(Pos);
internal sealed record BreakNode(int Pos) : Node(Pos);
internal sealed record ContinueNode(int Pos) : Node(Pos);

/// <summary>"$x := cmd | cmd"; <see cref="Decl"/> holds the declared (or, if IsAssign, assigned) variables.</summary>
internal sealed record PipeNode(int Pos, List<VariableNode> Decl, bool IsAssign, List<CommandNode> Cmds) : Node(Pos);
internal sealed record CommandNode(int Pos, List<Node> Args) : Node(Pos);

// Operands.
internal sealed record FieldNode(int Pos, string[] Ident) : Node(Pos);          // .A.B -> [A, B]
internal sealed record VariableNode(int Pos, string[] Ident) : Node(Pos);       // $x.A -> [$x, A]
internal sealed record ChainNode(int Pos, Node Node, string[] Fields) : Node(Pos); // (pipe).A.B
internal sealed record IdentifierNode(int Pos, string Name) : Node(Pos);        // a function name
internal sealed record DotNode(int Pos) : Node(Pos);
internal sealed record NilNode(int Pos) : Node(Pos);
internal sealed record BoolNode(int Pos, bool Value) : Node(Pos);
internal sealed record NumberNode(int Pos, object Value, string Text) : Node(Pos); // long or double
internal sealed record StringNode(int Pos, string Value, string Text) : Node(Pos);

// Markers returned while parsing lists; never part of the finished tree.
internal sealed record EndNode(int Pos) : Node(Pos);
internal sealed record ElseNode(int Pos) : Node(Pos);

/// <summary>
/// Recursive-descent parser following the structure of Go's parse.Tree, so that the accepted syntax and
/// the error cases (undefined variables and functions, stray {{end}}/{{else}}, break outside range) match.
/// </summary>
internal sealed class TemplateParser
{
    private readonly string _src;
    private readonly List<Token> _tokens;
    private readonly List<string> _vars = ["$"];
    private int _i;
    private int _rangeDepth;
    private int _depth;
    /// <summary>Iterations that the enclosing "range N" loops with constant N run the current body (see <see cref="CheckConstantRange"/>).</summary>
    private long _constantIterations = 1;

    /// <summary>Bounds nesting of parentheses and control structures so hostile input cannot overflow the stack.</summary>
    private const int MaxDepth = 1000;

    private TemplateParser(string src)
    {
        _src = src;
        _tokens = TemplateLexer.Lex(src);
    }

    public static ListNode Parse(string src)
    {
        var parser = new TemplateParser(src);
        var root = new ListNode(0, []);
        while (parser.PeekNonSpace().Kind != TokenKind.Eof)
        {
            var node = parser.TextOrAction();
            if (node is EndNode or ElseNode)
                throw parser.Error($"unexpected {{{{{(node is EndNode ? "end" : "else")}}}}}", node.Pos);
            root.Nodes.Add(node);
        }
        return root;
    }

    private Token Peek() => _tokens[Math.Min(_i, _tokens.Count - 1)];

    private Token Next() => _tokens[Math.Min(_i++, _tokens.Count - 1)];

    private void Backup() => _i--;

    /// <summary>Skips space tokens and returns the next token without consuming it.</summary>
    private Token PeekNonSpace()
    {
        while (Peek().Kind == TokenKind.Space)
            _i++;
        return Peek();
    }

    private Token NextNonSpace()
    {
        PeekNonSpace();
        return Next();
    }

    private Token Expect(TokenKind kind, string context)
    {
        var token = NextNonSpace();
        if (token.Kind != kind)
            throw Unexpected(token, context);
        return token;
    }

    private Node TextOrAction()
    {
        var token = NextNonSpace();
        return token.Kind switch
        {
            TokenKind.Text => new TextNode(token.Pos, token.Text),
            TokenKind.LeftDelim => Action(),
            _ => throw Unexpected(token, "input"),
        };
    }

    private Node Action()
    {
        var token = NextNonSpace();
        switch (token.Kind)
        {
            case TokenKind.Break:
            case TokenKind.Continue:
                Expect(TokenKind.RightDelim, $"{{{{{token.Text}}}}}");
                if (_rangeDepth == 0)
                    throw Error($"{{{{{token.Text}}}}} outside {{{{range}}}}", token.Pos);
                return token.Kind == TokenKind.Break ? new BreakNode(token.Pos) : new ContinueNode(token.Pos);
            case TokenKind.Else:
                // "{{else if ...}}" / "{{else with ...}}": leave the if/with for ParseControl to pick up.
                if (PeekNonSpace().Kind is TokenKind.If or TokenKind.With)
                    return new ElseNode(token.Pos);
                Expect(TokenKind.RightDelim, "else");
                return new ElseNode(token.Pos);
            case TokenKind.End:
                Expect(TokenKind.RightDelim, "end");
                return new EndNode(token.Pos);
            case TokenKind.If:
                return IfControl(token.Pos);
            case TokenKind.With:
                return WithControl(token.Pos);
            case TokenKind.Range:
                var (pipe, list, elseList) = ParseControl("range");
                return new RangeNode(token.Pos, pipe, list, elseList);
            case TokenKind.Define:
            case TokenKind.Template:
            case TokenKind.Block:
                throw Error($"{{{{{token.Text}}}}} is not supported", token.Pos);
        }
        Backup();
        // Variables declared here persist until the "end" of the enclosing control structure.
        var command = Pipeline("command", TokenKind.RightDelim);
        return new ActionNode(command.Pos, command);
    }

    private IfNode IfControl(int pos)
    {
        var (pipe, list, elseList) = ParseControl("if");
        return new IfNode(pos, pipe, list, elseList);
    }

    private WithNode WithControl(int pos)
    {
        var (pipe, list, elseList) = ParseControl("with");
        return new WithNode(pos, pipe, list, elseList);
    }

    /// <summary>
    /// Parses "pipeline }} list [{{else}} list] {{end}}". "{{if a}}x{{else if b}}y{{end}}" is treated as
    /// "{{if a}}x{{else}}{{if b}}y{{end}}{{end}}" (likewise "else with"), so one {{end}} closes the chain.
    /// </summary>
    private (PipeNode Pipe, ListNode List, ListNode? ElseList) ParseControl(string context)
    {
        int varMark = _vars.Count;
        Enter(Peek().Pos);
        try
        {
            var pipe = Pipeline(context, TokenKind.RightDelim);
            long outerIterations = _constantIterations;
            if (context == "range")
            {
                _rangeDepth++;
                CheckConstantRange(pipe);
            }
            var (list, next) = ItemList();
            if (context == "range")
            {
                _rangeDepth--;
                _constantIterations = outerIterations;
            }

            ListNode? elseList = null;
            if (next is ElseNode)
            {
                var peek = Peek();
                if (context == "if" && peek.Kind == TokenKind.If)
                {
                    Next();
                    elseList = new ListNode(next.Pos, [IfControl(peek.Pos)]);
                }
                else if (context == "with" && peek.Kind == TokenKind.With)
                {
                    Next();
                    elseList = new ListNode(next.Pos, [WithControl(peek.Pos)]);
                }
                else
                {
                    (elseList, var end) = ItemList();
                    if (end is not EndNode)
                        throw Error("expected end; found {{else}}", end.Pos);
                }
            }
            return (pipe, list, elseList);
        }
        finally
        {
            // A variable's scope ends at the "end" of the control structure that declares it.
            _vars.RemoveRange(varMark, _vars.Count - varMark);
            _depth--;
        }
    }

    /// <summary>
    /// "range N" over a number written in the template runs N times whatever the data; nested ones
    /// multiply. A template that would always pass <see cref="TemplateLimits.MaxIterations"/> is
    /// refused here, when it is created, rather than at every request.
    /// </summary>
    private void CheckConstantRange(PipeNode pipe)
    {
        // A float (1e12) is no count: Go fails every render of it ("range can't iterate over"), so it fails here once.
        if (pipe.Cmds is [{ Args: [NumberNode { Value: double } real] }])
            throw Error($"range can't iterate over {real.Text}", real.Pos);
        if (pipe.Cmds is not [{ Args: [NumberNode { Value: long count } number] }] || count <= 0)
            return;
        _constantIterations = _constantIterations > TemplateLimits.MaxIterations / count
            ? long.MaxValue
            : _constantIterations * count;
        if (_constantIterations > TemplateLimits.MaxIterations)
            throw Error($"range over {number.Text} would exceed the limit of {TemplateLimits.MaxIterations} iterations per render", number.Pos);
    }

    private void Enter(int pos)
    {
        if (++_depth > MaxDepth)
            throw Error("max expression depth exceeded", pos);
    }

    private (ListNode List, Node Next) ItemList()
    {
        var list = new ListNode(PeekNonSpace().Pos, []);
        while (PeekNonSpace().Kind != TokenKind.Eof)
        {
            var node = TextOrAction();
            if (node is EndNode or ElseNode)
                return (list, node);
            list.Nodes.Add(node);
        }
        throw Error("unexpected EOF", _src.Length);
    }

    private PipeNode Pipeline(string context, TokenKind end)
    {
        var start = PeekNonSpace();
        var decl = new List<VariableNode>();
        bool isAssign = false;

        // Declarations: "$x :=", "$x =", and in range "$i, $x :=". "$x foo" is not a declaration.
        while (PeekNonSpace() is { Kind: TokenKind.Variable } variable)
        {
            int save = _i;
            Next();
            var next = PeekNonSpace();
            if (next.Kind is TokenKind.Assign or TokenKind.Declare)
            {
                NextNonSpace();
                isAssign = next.Kind == TokenKind.Assign;
                decl.Add(new VariableNode(variable.Pos, [variable.Text]));
                _vars.Add(variable.Text);
                break;
            }
            if (next is { Kind: TokenKind.Char, Text: "," })
            {
                NextNonSpace();
                decl.Add(new VariableNode(variable.Pos, [variable.Text]));
                _vars.Add(variable.Text);
                if (context == "range" && decl.Count < 2)
                {
                    if (PeekNonSpace().Kind is TokenKind.Variable or TokenKind.RightDelim or TokenKind.RightParen)
                        continue;
                    throw Error("range can only initialize variables", next.Pos);
                }
                throw Error($"too many declarations in {context}", next.Pos);
            }
            _i = save;
            break;
        }

        var pipe = new PipeNode(start.Pos, decl, isAssign, []);
        while (true)
        {
            var token = NextNonSpace();
            if (token.Kind == end)
            {
                CheckPipeline(pipe, context, token.Pos);
                return pipe;
            }
            switch (token.Kind)
            {
                case TokenKind.Bool or TokenKind.Dot or TokenKind.Field or TokenKind.Identifier or TokenKind.Number
                    or TokenKind.Nil or TokenKind.String or TokenKind.Variable or TokenKind.LeftParen:
                    Backup();
                    // Like Go, a trailing "|" before the end of the pipeline is accepted and ignored.
                    pipe.Cmds.Add(Command());
                    break;
                default:
                    throw Unexpected(token, context);
            }
        }
    }

    private void CheckPipeline(PipeNode pipe, string context, int pos)
    {
        if (pipe.Cmds.Count == 0)
            throw Error($"missing value for {context}", pos);
        // Only the first command may be a constant; later ones receive the piped value as an argument.
        for (int i = 1; i < pipe.Cmds.Count; i++)
        {
            if (pipe.Cmds[i].Args[0] is BoolNode or DotNode or NilNode or NumberNode or StringNode)
                throw Error($"non executable command in pipeline stage {i + 1}", pipe.Cmds[i].Pos);
        }
    }

    private CommandNode Command()
    {
        var cmd = new CommandNode(PeekNonSpace().Pos, []);
        while (true)
        {
            PeekNonSpace();
            if (Operand() is { } operand)
                cmd.Args.Add(operand);
            var token = Next();
            if (token.Kind == TokenKind.Space)
                continue;
            if (token.Kind is TokenKind.RightDelim or TokenKind.RightParen)
                Backup();
            else if (token.Kind != TokenKind.Pipe)
                throw Unexpected(token, "operand");
            break;
        }
        if (cmd.Args.Count == 0)
            throw Error("empty command", cmd.Pos);
        return cmd;
    }

    /// <summary>A term optionally followed by ".Field" accesses: ".A.B", "$x.A", "(pipe).A".</summary>
    private Node? Operand()
    {
        var node = Term();
        if (node is null || Peek().Kind != TokenKind.Field)
            return node;
        int chainPos = Peek().Pos;
        var fields = new List<string>();
        while (Peek().Kind == TokenKind.Field)
            fields.Add(Next().Text[1..]);
        return node switch
        {
            FieldNode f => new FieldNode(f.Pos, [.. f.Ident, .. fields]),
            VariableNode v => new VariableNode(v.Pos, [.. v.Ident, .. fields]),
            BoolNode or StringNode or NumberNode or NilNode or DotNode =>
                throw Error($"unexpected . after term {Describe(node)}", chainPos),
            _ => new ChainNode(chainPos, node, [.. fields]),
        };
    }

    private Node? Term()
    {
        var token = NextNonSpace();
        switch (token.Kind)
        {
            case TokenKind.Identifier:
                if (!TemplateFunctions.IsDefined(token.Text))
                    throw Error($"function \"{token.Text}\" not defined", token.Pos);
                return new IdentifierNode(token.Pos, token.Text);
            case TokenKind.Dot:
                return new DotNode(token.Pos);
            case TokenKind.Nil:
                return new NilNode(token.Pos);
            case TokenKind.Variable:
                if (!_vars.Contains(token.Text))
                    throw Error($"undefined variable \"{token.Text}\"", token.Pos);
                return new VariableNode(token.Pos, [token.Text]);
            case TokenKind.Field:
                return new FieldNode(token.Pos, [token.Text[1..]]);
            case TokenKind.Bool:
                return new BoolNode(token.Pos, token.Text == "true");
            case TokenKind.Number:
                return new NumberNode(token.Pos, token.Value!, token.Text);
            case TokenKind.String:
                return new StringNode(token.Pos, (string)token.Value!, token.Text);
            case TokenKind.LeftParen:
                Enter(token.Pos);
                try
                {
                    return Pipeline("parenthesized pipeline", TokenKind.RightParen);
                }
                finally
                {
                    _depth--;
                }
        }
        Backup();
        return null;
    }

    /// <summary>The node's source text quoted like Go's %q, as Go's parse errors show it.</summary>
    private static string Describe(Node node)
    {
        string text = node switch
        {
            BoolNode b => b.Value ? "true" : "false",
            StringNode s => s.Text,
            NumberNode n => n.Text,
            NilNode => "nil",
            _ => ".",
        };
        return "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    private TemplateParseException Unexpected(Token token, string context)
    {
        string what = token.Kind switch
        {
            TokenKind.Eof => "EOF",
            TokenKind.LeftDelim or TokenKind.RightDelim => $"\"{token.Text}\"",
            TokenKind.Nil or TokenKind.Dot or (>= TokenKind.If and <= TokenKind.Block) => $"<{token.Text}>",
            _ => $"\"{token.Text}\"",
        };
        return Error($"unexpected {what} in {context}", token.Pos);
    }

    private TemplateParseException Error(string message, int pos) => SourceText.ParseError(_src, message, pos);
}
