using System.Globalization;
using System.Text.Json;

namespace Inference.Server.Platform.Sql;

/// <param name="Kind">One of the <see cref="PlanAdvisor"/> constants: missing_index, select_star, unbounded_sort.</param>
/// <param name="Message">One sentence naming the table and column, for people.</param>
/// <param name="Sql">DDL that would act on it (CREATE INDEX ...), when there is one.</param>
public sealed record PlanSuggestion(string Kind, string Message, string? Sql = null);

/// <summary>
/// Deterministic suggestions from a query's plan (EXPLAIN (FORMAT JSON, VERBOSE), as
/// <see cref="ISqlValidator"/> returns it) and the tenant's catalog, so that optimize and explain are
/// useful whatever the model says:
/// <list type="bullet">
/// <item>missing_index: a sequential scan over a large table (LargeTableRows) that filters or joins on a
/// column no index starts with → CREATE INDEX ON schema.table (column);</item>
/// <item>select_star: SELECT * (or t.*) on a table with WideTableColumns columns or more;</item>
/// <item>unbounded_sort: an ORDER BY of LargeTableRows rows or more that reaches the client with no LIMIT.</item>
/// </list>
/// Without a plan (DDL only, no database) only select_star applies.
/// </summary>
public static class PlanAdvisor
{
    public const string MissingIndex = "missing_index";
    public const string SelectStar = "select_star";
    public const string UnboundedSort = "unbounded_sort";

    // Join conditions live on the join node, above the scans they compare.
    private static readonly string[] JoinConditions = ["Hash Cond", "Merge Cond", "Join Filter"];
    // Nodes that pass a sort's order on to the client unchanged.
    private static readonly HashSet<string> PassThrough = ["Result", "Gather Merge", "Subquery Scan", "ProjectSet"];

    public static IReadOnlyList<PlanSuggestion> Suggest(string sql, JsonElement? plan, TenantSchema schema, PlatformDatabaseOptions? options = null)
    {
        options ??= new PlatformDatabaseOptions();
        var suggestions = new List<PlanSuggestion>();
        if (plan is { } explain)
        {
            var nodes = QueryPlan.Nodes(explain).ToList();
            suggestions.AddRange(nodes.SelectMany(node => MissingIndexes(node, schema, options)));
            suggestions.AddRange(nodes.Select(node => Unbounded(node, options)).OfType<PlanSuggestion>());
        }
        if (SqlQuery.TryParse(sql, schema, out _) is { } query) suggestions.AddRange(SelectStars(query, schema, options));
        return suggestions.DistinctBy(s => s.Message).OrderBy(s => s.Kind switch { MissingIndex => 0, SelectStar => 1, _ => 2 }).ToList();
    }

    private static IEnumerable<PlanSuggestion> MissingIndexes(PlanNode node, TenantSchema schema, PlatformDatabaseOptions options)
    {
        if (node.NodeType != "Seq Scan" || node.Relation is not { } relation || (node.Schema ?? schema.Name) != schema.Name) yield break;
        if (schema.Table(relation) is not { } table) yield break;
        double rows = Math.Max(table.EstimatedRows, node.PlanRows);
        if (rows < options.LargeTableRows) yield break;

        var alias = node.Alias ?? relation;
        var filtered = ColumnsOf(node.Text("Filter"), alias, relation, table, unqualified: true);
        var joined = node.Ancestors().SelectMany(a => JoinConditions.Select(a.Text))
            .SelectMany(condition => ColumnsOf(condition, alias, relation, table, unqualified: false));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (column, how) in filtered.Select(c => (c, "filters on")).Concat(joined.Select(c => (c, "joins on"))))
        {
            if (!seen.Add(column) || table.Indexes.Any(i => i.Columns.Count > 0 && i.Columns[0] == column)) continue;
            var ddl = $"CREATE INDEX ON {SqlIdentifier.Qualified(schema.Name, relation)} ({SqlIdentifier.Quote(column)});";
            yield return new PlanSuggestion(MissingIndex,
                $"Sequential scan on {relation} (~{Rows(rows)} rows) {how} {relation}.{column}, which no index starts with: {ddl}", ddl);
        }
    }

    /// <summary>Columns of <paramref name="table"/> an expression from the plan refers to, as alias.column (or bare, for a scan's own filter).</summary>
    private static IEnumerable<string> ColumnsOf(string? expression, string alias, string relation, TableInfo table, bool unqualified)
    {
        if (expression is null) yield break;
        List<SqlToken> tokens;
        try { tokens = SqlLexer.Tokenize(expression); }
        catch (FormatException) { yield break; }
        for (int i = 0; i < tokens.Count; i++)
        {
            if (!tokens[i].IsIdentifier || (i > 0 && (tokens[i - 1].IsSymbol("::") || tokens[i - 1].IsSymbol(".")))) continue;
            string? qualifier = null, name = tokens[i].Value;
            if (i + 2 < tokens.Count && tokens[i + 1].IsSymbol(".") && tokens[i + 2].IsIdentifier)
            {
                qualifier = name;
                name = tokens[i + 2].Value;
                i += 2;
            }
            else if (i + 1 < tokens.Count && tokens[i + 1].IsSymbol("(")) continue; // a function
            bool ours = qualifier is null ? unqualified : qualifier == alias || qualifier == relation;
            if (ours && table.Columns.Any(c => c.Name == name)) yield return name;
        }
    }

    private static PlanSuggestion? Unbounded(PlanNode node, PlatformDatabaseOptions options)
    {
        if (node.NodeType is not ("Sort" or "Incremental Sort") || node.PlanRows < options.LargeTableRows) return null;
        if (!node.Ancestors().All(a => PassThrough.Contains(a.NodeType))) return null; // under a Limit, a join, an aggregate...
        // Named only when the sort reads one table: over a join or an aggregate, "rows of orders" would mislead.
        var relations = node.Descendants().Select(d => d.Relation).OfType<string>().Distinct().ToList();
        var relation = relations.Count == 1 ? relations[0] : null;
        var key = node.List("Sort Key");
        return new PlanSuggestion(UnboundedSort,
            $"ORDER BY sorts ~{Rows(node.PlanRows)} rows{(relation is null ? "" : " of " + relation)}{(key is null ? "" : " (by " + key + ")")} "
            + "and returns them all: add a LIMIT if only the first rows are needed");
    }

    private static IEnumerable<PlanSuggestion> SelectStars(SqlQuery query, TenantSchema schema, PlatformDatabaseOptions options)
    {
        foreach (var table in query.StarTables.Select(schema.Table).OfType<TableInfo>())
            if (table.Columns.Count >= options.WideTableColumns)
                yield return new PlanSuggestion(SelectStar,
                    $"SELECT * reads all {table.Columns.Count} columns of {table.Name}: name only the columns you need");
    }

    private static string Rows(double rows) => rows.ToString("N0", CultureInfo.InvariantCulture);
}
