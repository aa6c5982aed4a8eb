using System.Collections;
using System.Reflection;
using System.Text;

namespace Inference.Engine.Prompting;

/// <summary>
/// Executes a parsed template against a data value, following Go's text/template exec rules:
/// variables live on a stack that is unwound at the end of each if/with/range (and after each range
/// iteration), "$" is the data passed to Render, and a missing map key yields nil (Ollama uses missingkey=zero).
/// Every render is bounded by <see cref="TemplateLimits"/>: iterations, output and built values, and time.
/// </summary>
internal sealed class TemplateEvaluator
{
    private enum Flow { Normal, Break, Continue }

    private readonly string _src;
    private readonly TimeProvider _time;
    private readonly StringBuilder _out = new();
    private readonly List<(string Name, object? Value)> _vars = [];
    private readonly int _maxOutput;
    private readonly long _started;
    private long _iterations;
    private long _steps;

    private TemplateEvaluator(string src, TimeProvider time, int maxOutput)
    {
        _src = src;
        _time = time;
        _maxOutput = Math.Min(maxOutput, TemplateLimits.MaxOutputChars);
        _started = time.GetTimestamp();
    }

    /// <summary>Renders; throws <see cref="TemplateLimitException"/> once the output would pass <paramref name="maxOutput"/> characters.</summary>
    public static string Render(string src, ListNode root, object? data, TimeProvider time, int maxOutput = TemplateLimits.MaxOutputChars)
    {
        var evaluator = new TemplateEvaluator(src, time, maxOutput);
        evaluator._vars.Add(("$", data));
        evaluator.Walk(data, root);
        return evaluator._out.ToString();
    }

    private void Write(Node node, string text)
    {
        if (text.Length > _maxOutput - _out.Length)
            throw Limit(TemplateLimit.Output, node, $"the output would exceed {_maxOutput} characters");
        _out.Append(text);
    }

    /// <summary>Checked at every node and iteration; the clock is read every 1024 steps.</summary>
    private void Tick(Node node)
    {
        if ((++_steps & 1023) == 0 && _time.GetElapsedTime(_started) > TemplateLimits.MaxDuration)
            throw Limit(TemplateLimit.Time, node, $"rendering took longer than {TemplateLimits.MaxDuration.TotalSeconds:0.#} s");
    }

    private Flow Walk(object? dot, Node node)
    {
        Tick(node);
        switch (node)
        {
            case TextNode text:
                Write(node, text.Text);
                return Flow.Normal;
            case ActionNode action:
                var value = EvalPipeline(dot, action.Pipe);
                // "{{ $x := 1 }}" and "{{ $x = 1 }}" print nothing.
                if (action.Pipe.Decl.Count == 0)
                    Write(node, GoValues.Print(value));
                return Flow.Normal;
            case ListNode list:
                foreach (var child in list.Nodes)
                {
                    var flow = Walk(dot, child);
                    if (flow != Flow.Normal)
                        return flow;
                }
                return Flow.Normal;
            case IfNode ifNode:
                return WalkIfOrWith(dot, ifNode.Pipe, ifNode.List, ifNode.ElseList, isWith: false);
            case WithNode with:
                return WalkIfOrWith(dot, with.Pipe, with.List, with.ElseList, isWith: true);
            case RangeNode range:
                return WalkRange(dot, range);
            case BreakNode:
                return Flow.Break;
            case ContinueNode:
                return Flow.Continue;
            default:
                throw Error(node, $"unknown node {node.GetType().Name}");
        }
    }

    /// <summary>"with" is "if" that also sets dot to the (true) pipeline value inside its body.</summary>
    private Flow WalkIfOrWith(object? dot, PipeNode pipe, ListNode list, ListNode? elseList, bool isWith)
    {
        int mark = _vars.Count;
        try
        {
            var value = EvalPipeline(dot, pipe);
            if (GoValues.IsTrue(value))
                return Walk(isWith ? value : dot, list);
            return elseList is null ? Flow.Normal : Walk(dot, elseList);
        }
        finally
        {
            Pop(mark);
        }
    }

    /// <summary>
    /// range over a slice (index, element), a map (key, value in sorted key order, as Go does) or an int n
    /// (0..n-1). With one variable it gets the element; with two, the index/key and the element.
    /// Nil or empty input runs the {{else}} branch.
    /// </summary>
    private Flow WalkRange(object? dot, RangeNode range)
    {
        int mark = _vars.Count;
        try
        {
            var value = GoValues.Normalize(EvalPipeline(dot, range.Pipe));
            bool any = false;
            foreach (var (index, element) in Iterate(range, value))
            {
                any = true;
                if (++_iterations > TemplateLimits.MaxIterations)
                    throw Limit(TemplateLimit.Iterations, range, $"range iterations exceed the limit of {TemplateLimits.MaxIterations} per render");
                Tick(range);
                SetRangeVariables(range.Pipe, index, element);
                int iterationMark = _vars.Count;
                var flow = Walk(element, range.List);
                Pop(iterationMark);
                if (flow == Flow.Break)
                    break;
            }
            if (!any && range.ElseList is not null)
                return Walk(dot, range.ElseList);
            return Flow.Normal;
        }
        finally
        {
            Pop(mark);
        }
    }

    private IEnumerable<(object? Index, object? Element)> Iterate(RangeNode range, object? value)
    {
        switch (value)
        {
            case null:
                yield break;
            case IList list:
                for (int i = 0; i < list.Count; i++)
                    yield return ((long)i, GoValues.Normalize(list[i]));
                break;
            case IDictionary map:
                var keys = map.Keys.Cast<object>().OrderBy(k => k.ToString(), StringComparer.Ordinal).ToList();
                foreach (var key in keys)
                    yield return (GoValues.Normalize(key), GoValues.Normalize(map[key]));
                break;
            case long n:
                if (range.Pipe.Decl.Count > 1)
                    throw Error(range, $"can't use {n} to iterate over more than one variable");
                for (long i = 0; i < n; i++)
                    yield return (i, i);
                break;
            default:
                throw Error(range, $"range can't iterate over {GoValues.Format(value)}");
        }
    }

    private void SetRangeVariables(PipeNode pipe, object? index, object? element)
    {
        var decl = pipe.Decl;
        if (decl.Count == 0)
            return;
        if (pipe.IsAssign)
        {
            if (decl.Count > 1)
            {
                SetVariable(decl[0], index);
                SetVariable(decl[1], element);
            }
            else
            {
                SetVariable(decl[0], element);
            }
            return;
        }
        // The declared variables are on top of the stack: the last one gets the element, the first the index.
        _vars[^1] = (_vars[^1].Name, element);
        if (decl.Count > 1)
            _vars[^2] = (_vars[^2].Name, index);
    }

    private void Pop(int mark) => _vars.RemoveRange(mark, _vars.Count - mark);

    private object? LookupVariable(VariableNode node)
    {
        string name = node.Ident[0];
        for (int i = _vars.Count - 1; i >= 0; i--)
            if (_vars[i].Name == name)
                return _vars[i].Value;
        throw Error(node, $"undefined variable: {name}");
    }

    /// <summary>"$x = value" updates the innermost visible variable named $x.</summary>
    private void SetVariable(VariableNode node, object? value)
    {
        string name = node.Ident[0];
        for (int i = _vars.Count - 1; i >= 0; i--)
        {
            if (_vars[i].Name == name)
            {
                _vars[i] = (name, value);
                return;
            }
        }
        throw Error(node, $"undefined variable: {name}");
    }

    /// <summary>Runs "cmd1 | cmd2 | ...": each command's result is passed as the last argument of the next.</summary>
    private object? EvalPipeline(object? dot, PipeNode pipe)
    {
        object? value = null;
        for (int i = 0; i < pipe.Cmds.Count; i++)
            value = EvalCommand(dot, pipe.Cmds[i], hasFinal: i > 0, value);
        foreach (var variable in pipe.Decl)
        {
            if (pipe.IsAssign)
                SetVariable(variable, value);
            else
                _vars.Add((variable.Ident[0], value));
        }
        return value;
    }

    private object? EvalCommand(object? dot, CommandNode cmd, bool hasFinal, object? final)
    {
        var first = cmd.Args[0];
        switch (first)
        {
            case FieldNode field:
                return EvalFieldChain(dot, field, field.Ident, cmd.Args.Count > 1 || hasFinal);
            case ChainNode chain:
                return EvalChain(dot, chain, cmd.Args.Count > 1 || hasFinal);
            case VariableNode variable:
                return EvalVariable(variable, cmd.Args.Count > 1 || hasFinal);
            case IdentifierNode function:
                return EvalFunction(dot, function, cmd.Args.Skip(1).ToList(), hasFinal, final);
            case NilNode:
                throw Error(first, "nil is not a command");
        }
        if (cmd.Args.Count > 1 || hasFinal)
            throw Error(first, $"can't give argument to non-function {Describe(first)}");
        return EvalArg(dot, first);
    }

    /// <summary>Evaluates an operand used as a function argument (or a lone constant command).</summary>
    private object? EvalArg(object? dot, Node node) => node switch
    {
        DotNode => dot,
        NilNode => null,
        BoolNode b => b.Value,
        NumberNode n => n.Value,
        StringNode s => s.Value,
        FieldNode field => EvalFieldChain(dot, field, field.Ident, hasArgs: false),
        VariableNode variable => EvalVariable(variable, hasArgs: false),
        ChainNode chain => EvalChain(dot, chain, hasArgs: false),
        PipeNode pipe => EvalPipeline(dot, pipe),
        IdentifierNode function => EvalFunction(dot, function, [], hasFinal: false, final: null),
        _ => throw Error(node, $"can't handle {node.GetType().Name} as an argument"),
    };

    private object? EvalVariable(VariableNode variable, bool hasArgs)
    {
        var value = LookupVariable(variable);
        if (variable.Ident.Length == 1)
        {
            if (hasArgs)
                throw Error(variable, $"can't give argument to non-function {variable.Ident[0]}");
            return value;
        }
        return EvalFields(variable, value, variable.Ident[1..], hasArgs);
    }

    private object? EvalFieldChain(object? dot, Node node, string[] fields, bool hasArgs) =>
        EvalFields(node, dot, fields, hasArgs);

    private object? EvalChain(object? dot, ChainNode chain, bool hasArgs)
    {
        if (chain.Node is NilNode)
            throw Error(chain, "indirection through explicit nil");
        return EvalFields(chain, EvalArg(dot, chain.Node), chain.Fields, hasArgs);
    }

    private object? EvalFields(Node node, object? receiver, string[] fields, bool hasArgs)
    {
        foreach (var field in fields)
            receiver = EvalField(node, field, receiver);
        // Fields are data, not methods; Go rejects "{{ .Field arg }}" and "{{ x | .Field }}".
        if (hasArgs)
            throw Error(node, $"{fields[^1]} is not a method but has arguments");
        return receiver;
    }

    /// <summary>
    /// Field access. TemplateData and TemplateMessage behave like Ollama's map: unknown names give nil, and
    /// null strings read as "". Dictionaries are maps (missing key: nil). A field of nil is nil, as for
    /// Ollama's map[string]any values. Strings, numbers, bools and lists have no fields: that is an error.
    /// </summary>
    private object? EvalField(Node node, string name, object? receiver)
    {
        switch (GoValues.Normalize(receiver))
        {
            case null:
                return null;
            case TemplateData data:
                return name switch
                {
                    "System" => data.System ?? "",
                    "Prompt" => data.Prompt ?? "",
                    "Response" => data.Response ?? "",
                    "Suffix" => data.Suffix ?? "",
                    "Messages" => data.Messages,
                    "Tools" => data.Tools,
                    "Think" => data.Think,
                    "ThinkLevel" => data.ThinkLevel ?? "",
                    "IsThinkSet" => data.IsThinkSet,
                    _ => null,
                };
            case TemplateMessage message:
                return name switch
                {
                    "Role" => message.Role ?? "",
                    "Content" => message.Content ?? "",
                    "ToolCalls" => message.ToolCalls,
                    "ToolName" => message.ToolName ?? "",
                    "ToolCallID" => message.ToolCallId ?? "",
                    "Thinking" => message.Thinking ?? "",
                    _ => null,
                };
            case TemplateStruct s:
                return s.TryGet(name, out var value)
                    ? GoValues.Normalize(value)
                    : throw Error(node, $"can't evaluate field {name} in type {s.TypeName}");
            case IDictionary map:
                return map.Contains(name) ? GoValues.Normalize(map[name]) : null;
            case string or long or double or bool or IList:
                throw Error(node, $"can't evaluate field {name} in type {GoValues.TypeName(receiver)}");
            case var other:
                var property = other.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
                if (property is null || property.GetIndexParameters().Length > 0)
                    throw Error(node, $"can't evaluate field {name} in type {GoValues.TypeName(other)}");
                return GoValues.Normalize(property.GetValue(other));
        }
    }

    private object? EvalFunction(object? dot, IdentifierNode node, List<Node> argNodes, bool hasFinal, object? final)
    {
        var function = TemplateFunctions.Get(node.Name);
        int count = argNodes.Count + (hasFinal ? 1 : 0);
        if (count < function.MinArgs || (function.MaxArgs >= 0 && count > function.MaxArgs))
        {
            string want = function.MaxArgs < 0 ? $"at least {function.MinArgs}" : function.MinArgs.ToString();
            throw Error(node, $"wrong number of args for {node.Name}: want {want} got {count}");
        }

        // and/or evaluate their arguments left to right and stop at the first that decides the result
        // (false for and, true for or), returning that argument itself rather than a bool.
        if (node.Name is "and" or "or")
        {
            bool stopOn = node.Name == "or";
            object? value = null;
            foreach (var arg in argNodes)
            {
                CheckNilArgument(node, function, arg, 0);
                value = EvalArg(dot, arg);
                if (GoValues.IsTrue(value) == stopOn)
                    return value;
            }
            return hasFinal ? final : value;
        }

        var args = new object?[count];
        for (int i = 0; i < argNodes.Count; i++)
        {
            CheckNilArgument(node, function, argNodes[i], i);
            args[i] = EvalArg(dot, argNodes[i]);
        }
        if (hasFinal)
            args[^1] = final;
        object? result;
        try
        {
            result = function.Invoke(args, _time);
        }
        catch (TemplateFunctionException e)
        {
            throw Error(node, $"error calling {node.Name}: {e.Message}");
        }
        catch (TemplateValueTooLargeException)
        {
            throw Limit(TemplateLimit.Value, node, $"{node.Name} built a value longer than {TemplateLimits.MaxOutputChars} characters");
        }
        // Values can grow without being written ($x = printf "%s%s" $x $x): each is bounded like the output.
        if (result is string { Length: > TemplateLimits.MaxOutputChars })
            throw Limit(TemplateLimit.Value, node, $"{node.Name} built a value longer than {TemplateLimits.MaxOutputChars} characters");
        return result;
    }

    /// <summary>A literal nil can only be passed where Go's parameter type can hold nil (interface types).</summary>
    private void CheckNilArgument(IdentifierNode function, TemplateFunction definition, Node arg, int index)
    {
        if (arg is not NilNode)
            return;
        string type = function.Name == "printf" && index == 0 ? "string" : definition.ParamType;
        if (type != "any")
            throw Error(arg, $"cannot assign nil to {type}");
    }

    private static string Describe(Node node) => node switch
    {
        BoolNode b => b.Value ? "true" : "false",
        NumberNode n => n.Text,
        StringNode s => s.Text,
        DotNode => ".",
        _ => node.GetType().Name,
    };

    private TemplateLimitException Limit(TemplateLimit limit, Node node, string message)
    {
        var (line, column) = SourceText.LineColumn(_src, node.Pos);
        return new TemplateLimitException(limit, message, line, column);
    }

    private TemplateRenderException Error(Node node, string message)
    {
        var (line, column) = SourceText.LineColumn(_src, node.Pos);
        return new TemplateRenderException(message, line, column);
    }
}
