using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Inference.Server.Platform.Sql;

/// <summary>One node of an EXPLAIN (FORMAT JSON) plan, with the node above it.</summary>
public sealed class PlanNode(JsonElement element, PlanNode? parent, int depth)
{
    public JsonElement Element { get; } = element;
    public PlanNode? Parent { get; } = parent;
    public int Depth { get; } = depth;

    public string NodeType => Text("Node Type") ?? "";
    /// <summary>The table a scan or a data change reads or writes ("Relation Name").</summary>
    public string? Relation => Text("Relation Name");
    /// <summary>The relation's schema; present with EXPLAIN VERBOSE.</summary>
    public string? Schema => Text("Schema");
    public string? Alias => Text("Alias");
    public double PlanRows => Element.TryGetProperty("Plan Rows", out var rows) && rows.ValueKind == JsonValueKind.Number ? rows.GetDouble() : 0;

    public string? Text(string property) =>
        Element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A list-valued property ("Sort Key", "Output") joined with ", ".</summary>
    public string? List(string property) =>
        Element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array
            ? string.Join(", ", value.EnumerateArray().Select(v => v.ToString()))
            : null;

    public IEnumerable<PlanNode> Ancestors()
    {
        for (var node = Parent; node is not null; node = node.Parent) yield return node;
    }

    public IEnumerable<PlanNode> Descendants() => QueryPlan.Walk(this).Skip(1);
}

/// <summary>Reading EXPLAIN (FORMAT JSON) output: its nodes, and a compact text form for prompts.</summary>
public static class QueryPlan
{
    /// <summary>Every node, depth first (the root first). Accepts EXPLAIN's array, its {"Plan": ...} object, or a plan node.</summary>
    public static IEnumerable<PlanNode> Nodes(JsonElement explain) =>
        Root(explain) is { } root ? Walk(new PlanNode(root, null, 0)) : [];

    /// <summary>The top plan node, or null when <paramref name="explain"/> is not EXPLAIN output.</summary>
    public static JsonElement? Root(JsonElement explain)
    {
        if (explain.ValueKind == JsonValueKind.Array)
            explain = explain.GetArrayLength() > 0 ? explain[0] : default;
        if (explain.ValueKind != JsonValueKind.Object) return null;
        if (explain.TryGetProperty("Plan", out var plan) && plan.ValueKind == JsonValueKind.Object) return plan;
        return explain.TryGetProperty("Node Type", out _) ? explain : null;
    }

    internal static IEnumerable<PlanNode> Walk(PlanNode node)
    {
        yield return node;
        if (!node.Element.TryGetProperty("Plans", out var children) || children.ValueKind != JsonValueKind.Array) yield break;
        foreach (var child in children.EnumerateArray())
            foreach (var descendant in Walk(new PlanNode(child, node, node.Depth + 1)))
                yield return descendant;
    }

    /// <summary>
    /// The plan as indented lines, the way EXPLAIN's text format reads ("Seq Scan on tenant_acme.orders o
    /// (rows=4000) Filter: ..."), without the per-node output lists: a few hundred tokens of prompt
    /// instead of the JSON's thousands.
    /// </summary>
    public static string Describe(JsonElement explain)
    {
        var text = new StringBuilder();
        foreach (var node in Nodes(explain))
        {
            text.Append(' ', node.Depth * 2).Append(node.NodeType);
            if (node.Text("Join Type") is { } join && node.NodeType.EndsWith("Join", StringComparison.Ordinal) && join != "Inner")
                text.Append(" (").Append(join).Append(')');
            if (node.Text("Strategy") is { } strategy && strategy != "Plain") text.Append(" (").Append(strategy).Append(')');
            if (node.Relation is { } relation)
            {
                text.Append(" on ").Append(node.Schema is { } schema ? schema + "." + relation : relation);
                if (node.Alias is { } alias && alias != relation) text.Append(' ').Append(alias);
            }
            if (node.Text("Index Name") is { } index) text.Append(" using ").Append(index);
            text.Append(" (rows=").Append(node.PlanRows.ToString("0", CultureInfo.InvariantCulture));
            if (node.Element.TryGetProperty("Total Cost", out var cost) && cost.ValueKind == JsonValueKind.Number)
                text.Append(" cost=").Append(cost.GetDouble().ToString("0.##", CultureInfo.InvariantCulture));
            text.Append(')');
            foreach (var property in (string[])["Index Cond", "Hash Cond", "Merge Cond", "Join Filter", "Filter", "Group Key", "Sort Key"])
            {
                var value = node.Text(property) ?? node.List(property);
                if (value is not null) text.Append(' ').Append(property).Append(": ").Append(value);
            }
            text.Append('\n');
        }
        return text.ToString();
    }
}
