using System.Globalization;
using System.Text;

namespace Inference.Server.Platform.Sql;

/// <summary>The prompt for one generation: system text (instructions and schema), user text (the task), and the tables it shows.</summary>
public sealed record SqlPrompt(string System, string User, IReadOnlyList<TableInfo> Tables);

/// <summary>
/// Writes the assistant's prompts. The schema part lists the most relevant tables first, one line
/// each with columns, types, keys, indexes and approximate row counts, spelled exactly as SQL must
/// spell them, and stops when the next table would not fit the token budget.
/// </summary>
public static class SqlPromptBuilder
{
    /// <summary>Never more tables than this in one prompt (and grammar), whatever the budget.</summary>
    public const int MaxTables = 8;

    /// <summary>
    /// The tables (in <paramref name="ranked"/> order) whose descriptions fit <paramref name="budgetTokens"/>
    /// as counted by the model's tokenizer. The most relevant table is always included, so there is
    /// something to answer about even when the budget is tiny; a table too large for the rest of the
    /// budget is skipped, not cut, so that the grammar never offers a column the prompt did not show.
    /// </summary>
    public static IReadOnlyList<TableInfo> Fit(IReadOnlyList<TableInfo> ranked, int budgetTokens, Func<string, int> countTokens)
    {
        var chosen = new List<TableInfo>();
        int used = 0;
        foreach (var table in ranked.Where(t => SqlGrammarIdentifiers.IsUsable(t.Name)))
        {
            if (chosen.Count == MaxTables) break;
            int cost = countTokens(Describe(table) + "\n");
            if (chosen.Count > 0 && used + cost > budgetTokens) continue;
            chosen.Add(table);
            used += cost;
        }
        return chosen;
    }

    /// <summary>
    /// "orders (~5000 rows): id bigint primary key, user_id integer references users(id), total numeric(10,2); indexes: orders_user_id_idx (user_id)".
    /// </summary>
    public static string Describe(TableInfo table)
    {
        var sb = new StringBuilder(SqlGrammarIdentifiers.Quote(table.Name));
        if (table.EstimatedRows > 0) sb.Append(" (~").Append(table.EstimatedRows.ToString(CultureInfo.InvariantCulture)).Append(" rows)");
        sb.Append(": ");
        var columns = table.Columns.Where(c => SqlGrammarIdentifiers.IsUsable(c.Name)).Select(c =>
        {
            var column = SqlGrammarIdentifiers.Quote(c.Name) + " " + c.DataType;
            if (table.PrimaryKey.Count == 1 && table.PrimaryKey[0] == c.Name) column += " primary key";
            var fk = table.ForeignKeys.FirstOrDefault(f => f.Columns.Count == 1 && f.Columns[0] == c.Name);
            if (fk is not null) column += $" references {SqlGrammarIdentifiers.Quote(fk.ReferencedTable)}({SqlGrammarIdentifiers.Quote(fk.ReferencedColumns[0])})";
            return column;
        });
        sb.Append(string.Join(", ", columns));
        if (table.PrimaryKey.Count > 1) sb.Append("; primary key (").Append(QuoteAll(table.PrimaryKey)).Append(')');
        foreach (var fk in table.ForeignKeys.Where(f => f.Columns.Count > 1))
            sb.Append("; (").Append(QuoteAll(fk.Columns)).Append(") references ").Append(SqlGrammarIdentifiers.Quote(fk.ReferencedTable))
                .Append('(').Append(QuoteAll(fk.ReferencedColumns)).Append(')');
        var indexes = table.Indexes.Where(i => i.Columns.All(SqlGrammarIdentifiers.IsUsable)).ToList();
        if (indexes.Count > 0)
            sb.Append("; indexes: ").Append(string.Join(", ", indexes.Select(i => $"{(i.Unique ? "unique " : "")}({QuoteAll(i.Columns)})")));
        return sb.ToString();
    }

    public static string SchemaText(IReadOnlyList<TableInfo> tables) => string.Join("\n", tables.Select(Describe));

    private static string QuoteAll(IEnumerable<string> names) => string.Join(", ", names.Select(SqlGrammarIdentifiers.Quote));
}
