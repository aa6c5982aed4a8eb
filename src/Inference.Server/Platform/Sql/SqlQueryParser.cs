namespace Inference.Server.Platform.Sql;

/// <summary>
/// A recursive-descent parser for the SQL assistant's language, a read-only subset of PostgreSQL's
/// SELECT: WITH (not RECURSIVE), SELECT [DISTINCT [ON]], FROM with joins (inner, left, right, full,
/// cross, natural; ON or USING) and subqueries, WHERE, GROUP BY, HAVING, UNION / INTERSECT / EXCEPT,
/// ORDER BY (ASC/DESC, NULLS FIRST/LAST), LIMIT, OFFSET, FETCH FIRST, VALUES; expressions in
/// SqlQueryParser.Expressions.cs. Anything else is refused with a message naming it.
/// <para>
/// It reads PostgreSQL's tokens (<see cref="SqlLexer"/>, which normalizes names as PostgreSQL does)
/// and resolves every name that could reach another object: each relation must be a CTE in scope or
/// a table of the tenant's schema (unqualified, or qualified with that schema only); each function,
/// operator and cast must be on <see cref="SqlAllowlist"/>; a column qualified with an alias (of a
/// table, a CTE, a subquery or a join) must be one of the output columns the parser knows it has
/// (PostgreSQL would otherwise read alias.f as the function call f(alias), one no allowlist saw).
/// It does not type-check: PostgreSQL's EXPLAIN does that afterwards, on a statement that can only
/// name what was allowed here.
/// </para>
/// Written by hand: the NuGet feed this project builds from serves no PostgreSQL parser for .NET
/// (neither libpg_query bindings nor SqlParserCS; Microsoft's ScriptDom parses T-SQL), and a parser
/// that accepts only this language is itself the allowlist.
/// </summary>
internal sealed partial class SqlQueryParser
{
    private const int MaxDepth = 64;

    // PostgreSQL 15's reserved keywords (pg_get_keywords() catcode R): never a name without quotes.
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast", "check", "collate",
        "column", "constraint", "create", "current_catalog", "current_date", "current_role", "current_time", "current_timestamp",
        "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for",
        "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into", "lateral", "leading", "limit",
        "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or", "order", "placing", "primary", "references",
        "returning", "select", "session_user", "some", "symmetric", "table", "then", "to", "trailing", "true", "union", "unique",
        "user", "using", "variadic", "when", "where", "window", "with",
        // Reserved from PostgreSQL 16 on (a function there, a column name in 15): refused either way.
        "system_user",
    };

    // Type/function-name keywords (catcode T): a function name, never a column or table alias.
    private static readonly HashSet<string> TypeFunctionKeywords = new(StringComparer.Ordinal)
    {
        "authorization", "binary", "collation", "concurrently", "cross", "current_schema", "freeze", "full", "ilike", "inner", "is",
        "isnull", "join", "left", "like", "natural", "notnull", "outer", "overlaps", "right", "similar", "tablesample", "verbose",
    };

    // Keywords PostgreSQL accepts as a column alias only after AS.
    private static readonly HashSet<string> NeedsAs = new(StringComparer.Ordinal)
    {
        "day", "filter", "hour", "minute", "month", "over", "second", "varying", "within", "without", "year",
    };

    private static readonly HashSet<string> DataChanges = new(StringComparer.Ordinal) { "insert", "update", "delete", "merge" };

    private readonly List<SqlToken> _tokens;
    private readonly string _source;
    private readonly TenantSchema _schema;
    private int _at;
    private int _depth;
    // Source offsets of unqualified references to tenant tables: DatabaseText qualifies them.
    private readonly List<int> _qualify = [];
    private readonly List<string> _tables = [];
    private readonly List<string> _starTables = [];

    private SqlQueryParser(List<SqlToken> tokens, string source, TenantSchema schema)
    {
        _tokens = tokens;
        _source = source;
        _schema = schema;
    }

    /// <summary>Parses one statement; throws <see cref="SqlLanguageException"/> or <see cref="FormatException"/> naming what is wrong.</summary>
    public static SqlQuery Parse(string sql, TenantSchema schema)
    {
        var all = SqlLexer.Tokenize(sql);
        int statements = 0;
        bool inStatement = false;
        foreach (var token in all)
        {
            if (token.Kind == SqlTokenKind.Semicolon) inStatement = false;
            else if (!inStatement) { inStatement = true; statements++; }
        }
        if (statements == 0) throw new SqlLanguageException("the statement is empty");
        if (statements > 1) throw new SqlLanguageException($"only a single statement is allowed; found {statements}");

        // Leading and trailing semicolons are harmless; the statement is what lies between them.
        var body = all.Where(t => t.Kind != SqlTokenKind.Semicolon).ToList();
        int start = body[0].Start;
        var text = sql[start..body[^1].End];
        var parser = new SqlQueryParser(body, sql, schema);
        parser.Statement();
        var databaseText = SqlQuery.Qualify(text, schema.Name, parser._qualify.Select(at => at - start));
        return new SqlQuery(text, databaseText, parser._tables.Distinct().ToList(), parser._starTables.Distinct().ToList());
    }

    private void Statement()
    {
        var first = Peek;
        if (first.Kind == SqlTokenKind.Word && !(first.Value is "select" or "with" or "values"))
        {
            if (DataChanges.Contains(first.Value)) throw NotReadOnly(first.Value);
            throw new SqlLanguageException($"{first.Value.ToUpperInvariant()} statements are not allowed: only SELECT statements reach the database");
        }
        SelectStatement(null, null);
        if (!AtEnd) throw Unexpected();
    }

    private static SqlLanguageException NotReadOnly(string keyword) =>
        new($"{keyword.ToUpperInvariant()} is not a read-only query: only SELECT statements reach the database");

    // ---- statements -------------------------------------------------------------------------

    /// <summary>
    /// [WITH ...] select_core { set operation select_core } [ORDER BY] [LIMIT / OFFSET / FETCH].
    /// Resolves its column references when done. Returns its output columns (the first core's, as in
    /// PostgreSQL; see <see cref="QueryLevel.OutputColumns"/>).
    /// </summary>
    private IReadOnlyList<string?>? SelectStatement(QueryLevel? outer, CteScope? ctes)
    {
        Enter();
        if (AcceptWord("with")) ctes = With(outer, ctes);

        var level = SelectCore(outer, ctes);
        var first = level;
        if (IsSetOperation)
        {
            level.Close();
            while (IsSetOperation)
            {
                Next();
                if (!AcceptWord("all")) AcceptWord("distinct");
                SelectCore(outer, ctes).Close();
            }
            // ORDER BY after a set operation sees only output columns: nothing qualified resolves here.
            level = new QueryLevel(this, outer);
        }

        if (AcceptWords("order", "by")) SortList(level, ctes);
        bool limit = false, offset = false, fetch = false;
        while (true)
        {
            if (!limit && AcceptWord("limit"))
            {
                limit = true;
                if (!AcceptWord("all")) Expression(level, ctes);
                if (Peek.IsSymbol(",")) throw new SqlLanguageException("LIMIT #,# is not supported: use LIMIT and OFFSET");
            }
            else if (!offset && AcceptWord("offset"))
            {
                offset = true;
                Expression(level, ctes);
                if (!AcceptWord("row")) AcceptWord("rows");
            }
            else if (!fetch && AcceptWord("fetch"))
            {
                fetch = true;
                if (!AcceptWord("first")) ExpectWord("next");
                if (!(IsWord("row") || IsWord("rows"))) Expression(level, ctes);
                if (!AcceptWord("row")) ExpectWord("rows");
                if (!AcceptWord("only")) { ExpectWord("with"); ExpectWord("ties"); }
            }
            else break;
        }
        if (IsWord("for")) throw new SqlLanguageException("FOR UPDATE / FOR SHARE is not allowed: queries here never lock rows");
        if (IsWord("into")) throw new SqlLanguageException("SELECT INTO is not allowed: queries here never create tables");
        level.Close();
        Leave();
        return first.OutputColumns;
    }

    private bool IsSetOperation => IsWord("union") || IsWord("intersect") || IsWord("except");

    /// <summary>WITH name [(columns)] AS [[NOT] MATERIALIZED] (select), ...: each name is visible to the CTEs after it and to the statement.</summary>
    private CteScope With(QueryLevel? outer, CteScope? ctes)
    {
        if (IsWord("recursive")) throw new SqlLanguageException("WITH RECURSIVE is not allowed");
        var scope = new CteScope(ctes);
        do
        {
            var name = Name("a name for the WITH query");
            var renamed = Peek.IsSymbol("(") ? NameList() : null;
            ExpectWord("as");
            if (AcceptWord("not")) ExpectWord("materialized");
            else AcceptWord("materialized");
            Expect("(");
            if (Peek.Kind == SqlTokenKind.Word && DataChanges.Contains(Peek.Value)) throw NotReadOnly(Peek.Value);
            var columns = SelectStatement(outer, scope);
            Expect(")");
            // Added after its body: without RECURSIVE a query does not see its own name.
            scope.Columns[name] = Rename(columns, renamed);
        }
        while (Accept(","));
        return scope;
    }

    /// <summary>SELECT ..., VALUES ..., or a parenthesized statement. Returns the core's query level, still open (ORDER BY may use it).</summary>
    private QueryLevel SelectCore(QueryLevel? outer, CteScope? ctes)
    {
        var level = new QueryLevel(this, outer);
        if (Accept("("))
        {
            level.Fixed = SelectStatement(outer, ctes);
            Expect(")");
            return level;
        }
        if (AcceptWord("values"))
        {
            bool firstRow = true;
            do
            {
                Expect("(");
                int count = ExpressionList(level, ctes);
                Expect(")");
                // PostgreSQL names a VALUES list's columns column1, column2, ...
                if (firstRow) level.Fixed = Enumerable.Range(1, count).Select(n => (string?)$"column{n}").ToList();
                firstRow = false;
            }
            while (Accept(","));
            return level;
        }
        if (IsWord("table")) throw new SqlLanguageException("TABLE statements are not allowed: write SELECT * FROM the table");
        if (Peek.Kind == SqlTokenKind.Word && DataChanges.Contains(Peek.Value)) throw NotReadOnly(Peek.Value);
        ExpectWord("select");

        if (AcceptWord("distinct"))
        {
            if (AcceptWord("on"))
            {
                Expect("(");
                ExpressionList(level, ctes);
                Expect(")");
            }
        }
        else AcceptWord("all");

        do
        {
            if (Accept("*"))
            {
                level.StarAll = true;
                level.Items.Add(new SelectItem(Star: true, Qualifier: null, Name: null));
                continue;
            }
            int start = _at;
            Expression(level, ctes);
            var item = ItemOf(start, _at);
            // PostgreSQL expands alias.* whatever label follows it.
            if (AcceptWord("as")) item = item.Star ? item : item with { Name = Label() };
            else if (IsBareAlias(Peek, NeedsAs)) item = item.Star ? item : item with { Name = Next().Value };
            level.Items.Add(item);
        }
        while (Accept(","));

        if (IsWord("into")) throw new SqlLanguageException("SELECT INTO is not allowed: queries here never create tables");
        if (AcceptWord("from"))
            do FromItem(level, ctes);
            while (Accept(","));
        if (AcceptWord("where")) Expression(level, ctes);
        if (AcceptWords("group", "by"))
        {
            if (!AcceptWord("all")) AcceptWord("distinct");
            do
            {
                if ((IsWord("rollup") || IsWord("cube")) && PeekAt(1).IsSymbol("(") || IsWord("grouping") && PeekAt(1).IsWord("sets"))
                    throw new SqlLanguageException($"{Peek.Value.ToUpperInvariant()} is not allowed: group by plain expressions");
                if (Peek.IsSymbol("(") && PeekAt(1).IsSymbol(")")) throw new SqlLanguageException("empty grouping sets are not allowed");
                Expression(level, ctes);
            }
            while (Accept(","));
        }
        if (AcceptWord("having")) Expression(level, ctes);
        if (IsWord("window")) throw new SqlLanguageException("WINDOW clauses are not allowed: write the window after OVER");
        return level;
    }

    /// <summary>One FROM list item with the joins that follow it.</summary>
    private void FromItem(QueryLevel level, CteScope? ctes)
    {
        FromPrimary(level, ctes);
        while (true)
        {
            if (AcceptWord("cross"))
            {
                ExpectWord("join");
                FromPrimary(level, ctes);
                continue;
            }
            bool natural = AcceptWord("natural");
            if (AcceptWord("inner")) { }
            else if (AcceptWord("left") || AcceptWord("right") || AcceptWord("full")) AcceptWord("outer");
            else if (!IsWord("join"))
            {
                if (natural) throw Unexpected();
                return;
            }
            ExpectWord("join");
            FromPrimary(level, ctes);
            if (natural) continue;
            if (AcceptWord("on")) Expression(level, ctes);
            else if (AcceptWord("using"))
            {
                NameList();
                if (IsWord("as")) throw new SqlLanguageException("an alias for JOIN ... USING is not allowed");
            }
            else throw Expected("ON or USING");
        }
    }

    /// <summary>A table, a CTE, a (subquery) or a (join), with its alias.</summary>
    private void FromPrimary(QueryLevel level, CteScope? ctes)
    {
        if (IsWord("lateral")) throw new SqlLanguageException("LATERAL is not allowed");
        if (IsWord("only")) throw new SqlLanguageException("ONLY is not allowed");
        if (Accept("("))
        {
            if (IsWord("select") || IsWord("with") || IsWord("values") || StartsParenthesizedSelect())
            {
                // A subquery sees the enclosing queries' columns, not its siblings in this FROM list.
                var columns = SelectStatement(level.Outer, ctes);
                Expect(")");
                var (alias, renamed) = Alias();
                level.Entries.Add(new RangeEntry(alias ?? "", null, Rename(columns, renamed)));
                return;
            }
            // A parenthesized join: its tables are this level's (its ON clauses name them); an alias
            // names the join as a whole, whose columns are those of the tables in it.
            Enter();
            int before = level.Entries.Count;
            FromItem(level, ctes);
            Expect(")");
            Leave();
            var (joinAlias, joinRenamed) = Alias();
            if (joinAlias is not null)
            {
                var inner = level.Entries.Skip(before).Where(e => e.InStar).ToList();
                IReadOnlyList<string?>? joined = inner.Any(e => e.Columns is null) ? null : inner.SelectMany(e => e.Columns!).ToList();
                for (int k = before; k < level.Entries.Count; k++) level.Entries[k] = level.Entries[k] with { InStar = false };
                level.Entries.Add(new RangeEntry(joinAlias, null, Rename(joined, joinRenamed)));
            }
            return;
        }

        var nameToken = Peek;
        var parts = QualifiedName("a table name");
        if (Peek.IsSymbol("(")) throw new SqlLanguageException($"functions in FROM are not allowed ({Show(parts)})");
        if (IsWord("tablesample")) throw new SqlLanguageException("TABLESAMPLE is not allowed");
        var entry = Relation(parts, nameToken, ctes);
        var (tableAlias, tableRenamed) = Alias();
        level.Entries.Add(entry with { Name = tableAlias ?? entry.Name, Columns = Rename(entry.Columns, tableRenamed), Renamed = tableRenamed is not null });
    }

    /// <summary>Whether the tokens after a '(' are more '(' and then a SELECT: ((SELECT ...) UNION (SELECT ...)) AS s.</summary>
    private bool StartsParenthesizedSelect()
    {
        int k = _at;
        while (k < _tokens.Count && _tokens[k].IsSymbol("(")) k++;
        return k > _at && k < _tokens.Count && (_tokens[k].IsWord("select") || _tokens[k].IsWord("with") || _tokens[k].IsWord("values"));
    }

    /// <summary>
    /// What a relation name means: a CTE in scope, or a table of the tenant's schema. Anything else
    /// (another schema, the catalog, a view, a name nobody defined) is refused here.
    /// </summary>
    private RangeEntry Relation(List<string> parts, SqlToken token, CteScope? ctes)
    {
        switch (parts.Count)
        {
            case 1:
                var name = parts[0];
                if (ctes is not null && ctes.TryFind(name, out var cteColumns)) return new RangeEntry(name, null, cteColumns);
                if (_schema.Table(name) is { } table)
                {
                    _qualify.Add(token.Start);
                    _tables.Add(table.Name);
                    return new RangeEntry(name, table, ColumnsOf(table));
                }
                throw new SqlLanguageException($"relation {SqlIdentifier.Show(name)} is not a table of schema {SqlIdentifier.Show(_schema.Name)}");
            case 2:
                if (parts[0] != _schema.Name)
                    throw new SqlLanguageException($"relation {Show(parts)} is outside schema {SqlIdentifier.Show(_schema.Name)}");
                if (_schema.Table(parts[1]) is not { } own)
                    throw new SqlLanguageException($"relation {Show(parts)} is not a table of schema {SqlIdentifier.Show(_schema.Name)}");
                _tables.Add(own.Name);
                return new RangeEntry(own.Name, own, ColumnsOf(own));
            default:
                throw new SqlLanguageException($"relation {Show(parts)} names another database: only tables of schema {SqlIdentifier.Show(_schema.Name)} may be used");
        }
    }

    private static IReadOnlyList<string?> ColumnsOf(TableInfo table) => table.Columns.Select(c => (string?)c.Name).ToList();

    /// <summary>An optional alias with an optional column list (which renames the first columns).</summary>
    private (string? Alias, List<string>? Columns) Alias()
    {
        string? alias = null;
        if (AcceptWord("as")) alias = Name("an alias");
        else if (IsBareAlias(Peek, null)) alias = Next().Value;
        var columns = alias is not null && Peek.IsSymbol("(") ? NameList() : null;
        return (alias, columns);
    }

    /// <summary><paramref name="columns"/> with the first ones renamed, as an alias's or a WITH query's column list does.</summary>
    private static IReadOnlyList<string?>? Rename(IReadOnlyList<string?>? columns, List<string>? names)
    {
        if (names is null) return columns;
        if (columns is null) return null;
        var renamed = columns.ToList();
        for (int k = 0; k < names.Count && k < renamed.Count; k++) renamed[k] = names[k];
        return renamed;
    }

    /// <summary>
    /// What a select-list item contributes to the output columns: * or alias.*, or one column named
    /// as PostgreSQL surely names it (a plain column reference: its last name); other expressions
    /// get a null name here, which no qualified reference matches (a label with AS gives them one).
    /// </summary>
    private SelectItem ItemOf(int start, int end)
    {
        var unnamed = new SelectItem(Star: false, Qualifier: null, Name: null);
        var first = _tokens[start];
        if (!(first.Kind == SqlTokenKind.QuotedIdentifier
              || first.Kind == SqlTokenKind.Word && !Reserved.Contains(first.Value) && !TypeFunctionKeywords.Contains(first.Value)))
            return unnamed;
        string last = first.Value;
        for (int k = start + 1; k < end; k += 2)
        {
            if (!_tokens[k].IsSymbol(".") || k + 1 >= end) return unnamed;
            var next = _tokens[k + 1];
            if (next.IsSymbol("*")) return k + 2 == end ? new SelectItem(Star: true, Qualifier: last, Name: null) : unnamed;
            if (!next.IsIdentifier) return unnamed;
            last = next.Value;
        }
        return new SelectItem(Star: false, Qualifier: null, Name: last);
    }

    /// <summary>ORDER BY items: expression [ASC | DESC] [NULLS FIRST | LAST].</summary>
    private void SortList(QueryLevel level, CteScope? ctes)
    {
        do
        {
            Expression(level, ctes);
            if (IsWord("using")) throw new SqlLanguageException("ORDER BY ... USING is not allowed: use ASC or DESC");
            if (!AcceptWord("asc")) AcceptWord("desc");
            if (AcceptWord("nulls") && !AcceptWord("first")) ExpectWord("last");
        }
        while (Accept(","));
    }

    // ---- names ------------------------------------------------------------------------------

    /// <summary>A word that is a column or table alias without AS: a quoted name, or an unquoted word that is no keyword in the way.</summary>
    private static bool IsBareAlias(SqlToken token, HashSet<string>? alsoExcluded) =>
        token.Kind == SqlTokenKind.QuotedIdentifier
        || token.Kind == SqlTokenKind.Word && !Reserved.Contains(token.Value) && !TypeFunctionKeywords.Contains(token.Value)
           && alsoExcluded?.Contains(token.Value) != true && !ClauseWords.Contains(token.Value);

    // Words that continue a statement after a select item or a table (unreserved in PostgreSQL, but never an alias here).
    private static readonly HashSet<string> ClauseWords = new(StringComparer.Ordinal) { "tablesample", "window", "offset", "fetch" };

    /// <summary>A name: an unquoted non-reserved word or a quoted identifier.</summary>
    private string Name(string what)
    {
        var token = Peek;
        if (token.Kind == SqlTokenKind.QuotedIdentifier || token.Kind == SqlTokenKind.Word && !Reserved.Contains(token.Value) && !TypeFunctionKeywords.Contains(token.Value))
            return Next().Value;
        throw Expected(what);
    }

    /// <summary>A column label after AS: any word, reserved or not, or a quoted identifier.</summary>
    private string Label() => Peek.IsIdentifier ? Next().Value : throw Expected("a column alias");

    private List<string> QualifiedName(string what)
    {
        var parts = new List<string> { Name(what) };
        while (Peek.IsSymbol(".") && PeekAt(1).IsIdentifier)
        {
            Next();
            parts.Add(Next().Value);
        }
        return parts;
    }

    private List<string> NameList()
    {
        var names = new List<string>();
        Expect("(");
        do names.Add(Name("a column name"));
        while (Accept(","));
        Expect(")");
        return names;
    }

    private static string Show(IEnumerable<string> parts) => string.Join(".", parts.Select(SqlIdentifier.Show));

    // ---- tokens -----------------------------------------------------------------------------

    private bool AtEnd => _at >= _tokens.Count;
    private SqlToken Peek => PeekAt(0);
    // Past the end: an empty symbol, which no rule accepts (a default token would read as a word).
    private SqlToken PeekAt(int ahead) => _at + ahead < _tokens.Count ? _tokens[_at + ahead] : new SqlToken(SqlTokenKind.Symbol, "", _source.Length, _source.Length);
    private SqlToken Next() => AtEnd ? throw Unexpected() : _tokens[_at++];
    private bool IsWord(string word) => Peek.IsWord(word);

    private bool AcceptWord(string word)
    {
        if (!IsWord(word)) return false;
        _at++;
        return true;
    }

    private bool AcceptWords(string first, string second)
    {
        if (!IsWord(first) || !PeekAt(1).IsWord(second)) return false;
        _at += 2;
        return true;
    }

    private void ExpectWord(string word)
    {
        if (!AcceptWord(word)) throw Expected(word.ToUpperInvariant());
    }

    private bool Accept(string symbol)
    {
        if (!Peek.IsSymbol(symbol)) return false;
        _at++;
        return true;
    }

    private void Expect(string symbol)
    {
        if (!Accept(symbol)) throw Expected($"\"{symbol}\"");
    }

    /// <summary>Nesting is bounded, so no statement can exhaust the stack.</summary>
    private void Enter()
    {
        if (++_depth > MaxDepth) throw new SqlLanguageException($"the statement is nested more than {MaxDepth} levels deep");
    }

    private void Leave() => _depth--;

    private SqlLanguageException Unexpected() => AtEnd
        ? new SqlLanguageException("syntax error at end of input")
        : new SqlLanguageException($"syntax error at or near \"{Shorten(_source[Peek.Start..Peek.End])}\"");

    private SqlLanguageException Expected(string what) => AtEnd
        ? new SqlLanguageException($"syntax error at end of input (expected {what})")
        : new SqlLanguageException($"syntax error at or near \"{Shorten(_source[Peek.Start..Peek.End])}\" (expected {what})");

    private static string Shorten(string text)
    {
        var shown = text.Length > 40 ? text[..40] + "…" : text;
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    // ---- scopes -----------------------------------------------------------------------------

    /// <summary>The CTE names visible at a point of the statement, innermost WITH first, with their output columns.</summary>
    private sealed class CteScope(CteScope? outer)
    {
        public Dictionary<string, IReadOnlyList<string?>?> Columns { get; } = new(StringComparer.Ordinal);

        public bool TryFind(string name, out IReadOnlyList<string?>? columns) =>
            Columns.TryGetValue(name, out columns) || outer is not null && outer.TryFind(name, out columns);
    }

    /// <param name="Name">What qualified column references call it: its alias, else the table or CTE name.</param>
    /// <param name="Table">The tenant table it reads; null for a CTE, a subquery or a join.</param>
    /// <param name="Columns">Its output columns in order (null: a name the parser cannot be sure of), or null when even their number is unknown.</param>
    /// <param name="InStar">Whether SELECT * expands it (not the tables inside an aliased join: the join's own entry stands for them).</param>
    /// <param name="Renamed">Whether an alias's column list renamed its first columns.</param>
    private sealed record RangeEntry(string Name, TableInfo? Table, IReadOnlyList<string?>? Columns, bool InStar = true, bool Renamed = false);

    /// <param name="Star">* (Qualifier null) or alias.*.</param>
    /// <param name="Name">The output column's name, when the parser is sure of it.</param>
    private sealed record SelectItem(bool Star, string? Qualifier, string? Name);

    /// <param name="Qualifier">The table or alias name before the column.</param>
    /// <param name="Column">The column name, or "*".</param>
    private readonly record struct ColumnReference(string Qualifier, string Column);

    /// <summary>
    /// One SELECT's FROM scope. Qualified column references wait until the whole SELECT is read (the
    /// select list comes before FROM), then resolve here or, for a correlated subquery, further out.
    /// </summary>
    private sealed class QueryLevel(SqlQueryParser parser, QueryLevel? outer)
    {
        public QueryLevel? Outer { get; } = outer;
        public List<RangeEntry> Entries { get; } = [];
        public List<ColumnReference> Pending { get; } = [];
        /// <summary>SELECT * (every table of this level).</summary>
        public bool StarAll { get; set; }
        /// <summary>The select list, for <see cref="OutputColumns"/>.</summary>
        public List<SelectItem> Items { get; } = [];
        /// <summary>The output columns of a VALUES list or a parenthesized statement, which have no select list here.</summary>
        public IReadOnlyList<string?>? Fixed { get; set; }
        /// <summary>The output columns, once closed: what alias.column may name when this level is a CTE or a subquery.</summary>
        public IReadOnlyList<string?>? OutputColumns { get; private set; }

        public void Close()
        {
            if (StarAll) parser._starTables.AddRange(Entries.Select(e => e.Table?.Name).OfType<string>());
            foreach (var reference in Pending)
            {
                var entry = Find(reference.Qualifier);
                if (entry is null)
                {
                    if (Outer is null)
                        throw new SqlLanguageException($"missing FROM-clause entry for table {SqlIdentifier.Show(reference.Qualifier)}");
                    Outer.Pending.Add(reference);
                    continue;
                }
                if (reference.Column == "*")
                {
                    if (entry.Table is { } starred) parser._starTables.Add(starred.Name);
                    continue;
                }
                // Only a column the parser knows is there: otherwise PostgreSQL would call the function of that name on the row.
                if (entry.Columns?.Contains(reference.Column) == true) continue;
                var column = $"{SqlIdentifier.Show(reference.Qualifier)}.{SqlIdentifier.Show(reference.Column)}";
                if (entry.Table is { } table)
                    throw new SqlLanguageException(entry.Renamed
                        ? $"column {column} does not exist (the column list after alias {SqlIdentifier.Show(reference.Qualifier)} renamed the table's first columns)"
                        : $"column {column} does not exist (table {SqlIdentifier.Show(table.Name)} has no such column)");
                throw new SqlLanguageException(
                    $"column {column} is not a known column of {SqlIdentifier.Show(reference.Qualifier)} (a subquery's or WITH query's computed columns need a name given with AS)");
            }
            Pending.Clear();
            OutputColumns = Fixed ?? Expand();
        }

        private RangeEntry? Find(string name) => Entries.FirstOrDefault(e => e.Name == name);

        /// <summary>The select list's columns; null when a * expands something whose columns are unknown.</summary>
        private List<string?>? Expand()
        {
            var columns = new List<string?>();
            foreach (var item in Items)
            {
                if (!item.Star)
                {
                    columns.Add(item.Name);
                    continue;
                }
                List<RangeEntry?> expanded = item.Qualifier is null ? [.. Entries.Where(e => e.InStar)] : [FindOuter(item.Qualifier)];
                foreach (var entry in expanded)
                {
                    if (entry?.Columns is null) return null;
                    columns.AddRange(entry.Columns);
                }
            }
            return columns;
        }

        private RangeEntry? FindOuter(string name) => Find(name) ?? Outer?.FindOuter(name);
    }
}
