using System.Text;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Orders a schema's tables by how likely a request is about them, so that the prompt's token
/// budget (and the grammar) goes to the right ones: tables whose name or column names share words
/// with the request first, then the foreign-key neighbours of the best of them (a question about
/// orders usually needs their users), then the rest.
/// </summary>
public static class SqlPromptRelevance
{
    private const int TableWordWeight = 4;
    private const int NeighbourSources = 3;

    // Words that say nothing about which table is meant (English filler and the SQL around names).
    private static readonly HashSet<string> Filler = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "of", "for", "to", "in", "on", "at", "by", "and", "or", "with", "all", "each", "every", "per",
        "what", "which", "who", "how", "many", "much", "is", "are", "was", "were", "me", "my", "show", "list", "give",
        "get", "find", "that", "this", "their", "there", "than", "from", "select", "where", "as", "not", "null", "limit",
        "join", "left", "inner", "count", "sum", "avg", "min", "max", "asc", "desc", "like", "between", "true", "false",
    };

    public static IReadOnlyList<TableInfo> Rank(IReadOnlyList<TableInfo> tables, string request)
    {
        var words = Words(request).Where(w => !Filler.Contains(w)).ToHashSet(StringComparer.Ordinal);
        var scored = tables
            .Select(t => (Table: t, Score: Score(t, words)))
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Table.Name, StringComparer.Ordinal)
            .ToList();

        var ranked = scored.Where(x => x.Score > 0).Select(x => x.Table).ToList();
        var included = ranked.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var top in ranked.Take(NeighbourSources).ToList())
        {
            foreach (var neighbour in Neighbours(top, tables).OrderBy(t => t.Name, StringComparer.Ordinal))
                if (included.Add(neighbour.Name)) ranked.Add(neighbour);
        }
        foreach (var (table, _) in scored)
            if (included.Add(table.Name)) ranked.Add(table);
        return ranked;
    }

    /// <summary>
    /// Table-name words weigh more than column-name words, and a table whose whole name is in the
    /// request more again ("orders" is about orders before order_items); each distinct word counts once per name.
    /// </summary>
    private static int Score(TableInfo table, HashSet<string> words)
    {
        if (words.Count == 0) return 0;
        var name = Words(table.Name).Distinct().ToList();
        int matched = name.Count(words.Contains);
        int score = TableWordWeight * matched + (matched > 0 && matched == name.Count ? TableWordWeight : 0);
        foreach (var column in table.Columns) score += Words(column.Name).Distinct().Count(words.Contains);
        return score;
    }

    /// <summary>Tables this one references, and tables that reference it.</summary>
    private static IEnumerable<TableInfo> Neighbours(TableInfo table, IReadOnlyList<TableInfo> tables) =>
        tables.Where(t => t.Name != table.Name &&
            (table.ForeignKeys.Any(fk => fk.ReferencedTable == t.Name) || t.ForeignKeys.Any(fk => fk.ReferencedTable == table.Name)));

    /// <summary>
    /// Lower-case, singular-ish words of a request or a name: split at anything but letters and digits
    /// and at camelCase humps ("OrderItems", "order_items" and "order items" all give "order", "item").
    /// </summary>
    public static IEnumerable<string> Words(string text)
    {
        var word = new StringBuilder();
        for (int i = 0; i <= text.Length; i++)
        {
            char c = i < text.Length ? text[i] : ' ';
            bool hump = word.Length > 0 && char.IsUpper(c) && char.IsLower(text[i - 1]);
            if (!char.IsLetterOrDigit(c) || hump)
            {
                if (word.Length > 0) yield return Singular(word.ToString().ToLowerInvariant());
                word.Clear();
            }
            if (char.IsLetterOrDigit(c)) word.Append(c);
        }
    }

    // Crude English singular, applied alike to requests and names, so "categories" meets "category".
    private static string Singular(string w)
    {
        if (w.Length > 4 && w.EndsWith("ies", StringComparison.Ordinal)) return w[..^3] + "y";
        if (w.Length > 4 && (w.EndsWith("ses", StringComparison.Ordinal) || w.EndsWith("xes", StringComparison.Ordinal) ||
                             w.EndsWith("ches", StringComparison.Ordinal) || w.EndsWith("shes", StringComparison.Ordinal))) return w[..^2];
        if (w.Length > 3 && w.EndsWith('s') && !w.EndsWith("ss", StringComparison.Ordinal)) return w[..^1];
        return w;
    }
}
