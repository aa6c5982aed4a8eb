namespace Inference.Server.Platform.Sql;

/// <summary>A column as a grammar writes it: its SQL reference (qualified in joins) and what may be done with it.</summary>
public sealed record SqlGrammarColumn(string Reference, SqlGrammarColumnKind Kind);

/// <summary>
/// One FROM clause a generated statement can have: a single table, or two tables joined along a
/// foreign key. GBNF is context-free, so "columns must belong to the tables in FROM" is enforced by
/// giving every source its own rules that only name its own columns.
/// </summary>
/// <param name="Tables">The tables in the FROM clause (one, or child then parent).</param>
/// <param name="Join">For a join: the text after the child table, without the join keyword ("parent ON child.a = parent.b").</param>
public sealed record SqlGrammarSource(IReadOnlyList<string> Tables, string? Join, IReadOnlyList<SqlGrammarColumn> Columns)
{
    /// <summary>Every source a grammar over <paramref name="tables"/> offers: each table alone, then each foreign key between two of them.</summary>
    public static IReadOnlyList<SqlGrammarSource> For(IReadOnlyList<TableInfo> tables)
    {
        var usable = tables.Where(t => SqlGrammarIdentifiers.IsUsable(t.Name)).ToList();
        var sources = usable.Select(t => new SqlGrammarSource([t.Name], null, ColumnsOf(t, qualified: false))).ToList();
        foreach (var child in usable)
        {
            foreach (var fk in child.ForeignKeys)
            {
                // Self-references would need aliases, and a key whose table is not offered cannot be joined.
                if (fk.ReferencedTable == child.Name || usable.FirstOrDefault(t => t.Name == fk.ReferencedTable) is not { } parent) continue;
                if (fk.Columns.Count == 0 || fk.Columns.Count != fk.ReferencedColumns.Count) continue;
                if (!fk.Columns.Concat(fk.ReferencedColumns).All(SqlGrammarIdentifiers.IsUsable)) continue;
                var on = string.Join(" AND ", fk.Columns.Zip(fk.ReferencedColumns, (c, r) => $"{Qualified(child.Name, c)} = {Qualified(parent.Name, r)}"));
                sources.Add(new SqlGrammarSource([child.Name, parent.Name], $"{SqlGrammarIdentifiers.Quote(parent.Name)} ON {on}",
                    [.. ColumnsOf(child, qualified: true), .. ColumnsOf(parent, qualified: true)]));
            }
        }
        return sources;
    }

    private static List<SqlGrammarColumn> ColumnsOf(TableInfo table, bool qualified) =>
        table.Columns
            .Where(c => SqlGrammarIdentifiers.IsUsable(c.Name))
            .Select(c => new SqlGrammarColumn(qualified ? Qualified(table.Name, c.Name) : SqlGrammarIdentifiers.Quote(c.Name),
                SqlGrammarColumnKinds.Classify(c.DataType)))
            .ToList();

    private static string Qualified(string table, string column) => SqlGrammarIdentifiers.Quote(table) + "." + SqlGrammarIdentifiers.Quote(column);
}
