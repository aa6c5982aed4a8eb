namespace Inference.Server.Platform.Sql;

/// <summary>
/// A tenant schema from DDL carried in a request (when no database is configured): CREATE TABLE with
/// columns, types, NOT NULL, PRIMARY KEY, UNIQUE and REFERENCES / FOREIGN KEY; CREATE [UNIQUE] INDEX;
/// and ALTER TABLE ... ADD [CONSTRAINT] / ADD [COLUMN], as pg_dump writes them. Other statements are
/// skipped. Types are spelled as format_type() spells them (int → integer, varchar(50) → character
/// varying(50), timestamptz → timestamp with time zone), and primary keys and unique constraints get
/// the indexes PostgreSQL would create, so a parsed schema reads like an introspected one (with
/// EstimatedRows 0). Schema qualifiers on names are dropped.
/// </summary>
public static class DdlSchemaParser
{
    // Words that end a column's type and start its constraints.
    private static readonly HashSet<string> ColumnConstraintWords =
        ["constraint", "not", "null", "primary", "unique", "references", "default", "check", "collate", "generated", "deferrable", "initially"];

    private static readonly Dictionary<string, string> TypeAliases = new(StringComparer.Ordinal)
    {
        ["int"] = "integer", ["int4"] = "integer", ["serial"] = "integer", ["serial4"] = "integer",
        ["bigint"] = "bigint", ["int8"] = "bigint", ["bigserial"] = "bigint", ["serial8"] = "bigint",
        ["smallint"] = "smallint", ["int2"] = "smallint", ["smallserial"] = "smallint", ["serial2"] = "smallint",
        ["varchar"] = "character varying", ["char"] = "character", ["bpchar"] = "character",
        ["bool"] = "boolean", ["float8"] = "double precision", ["float"] = "double precision", ["float4"] = "real",
        ["decimal"] = "numeric", ["timestamptz"] = "timestamp with time zone", ["timestamp"] = "timestamp without time zone",
        ["timetz"] = "time with time zone", ["time"] = "time without time zone", ["varbit"] = "bit varying",
    };

    /// <summary>Throws <see cref="FormatException"/> for unterminated strings or comments and unbalanced parentheses.</summary>
    public static TenantSchema Parse(string schema, string ddl)
    {
        var tables = new Dictionary<string, Table>(StringComparer.Ordinal);
        var statement = new List<SqlToken>();
        foreach (var token in SqlLexer.Tokenize(ddl).Append(new SqlToken(SqlTokenKind.Semicolon, ";", ddl.Length, ddl.Length)))
        {
            if (token.Kind != SqlTokenKind.Semicolon) { statement.Add(token); continue; }
            if (statement.Count > 0) ParseStatement(new Cursor(statement), tables);
            statement = [];
        }
        // REFERENCES t with no column list means t's primary key, which may be declared later.
        foreach (var table in tables.Values)
            for (int i = 0; i < table.ForeignKeys.Count; i++)
                if (table.ForeignKeys[i] is { ReferencedColumns.Count: 0 } fk && tables.TryGetValue(fk.ReferencedTable, out var target))
                    table.ForeignKeys[i] = fk with { ReferencedColumns = target.PrimaryKey };
        return new TenantSchema(schema, tables.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Build()).ToList());
    }

    private static void ParseStatement(Cursor c, Dictionary<string, Table> tables)
    {
        if (c.Accept("create"))
        {
            c.Accept("or", "replace");
            c.AcceptAny("global", "local");
            c.AcceptAny("temporary", "temp", "unlogged");
            if (c.Accept("table")) ParseCreateTable(c, tables);
            else if (c.Accept("unique", "index")) ParseCreateIndex(c, tables, unique: true);
            else if (c.Accept("index")) ParseCreateIndex(c, tables, unique: false);
        }
        else if (c.Accept("alter", "table"))
            ParseAlterTable(c, tables);
    }

    private static void ParseCreateTable(Cursor c, Dictionary<string, Table> tables)
    {
        c.Accept("if", "not", "exists");
        var name = c.QualifiedName();
        if (name is null || !c.Peek.IsSymbol("(")) return; // CREATE TABLE ... AS / PARTITION OF: no column list to read
        var table = tables[name] = new Table(name);
        foreach (var element in c.ParenthesizedList($"CREATE TABLE {name}"))
        {
            if (element.AtEnd) continue;
            if (IsTableConstraint(element)) ParseTableConstraint(element, table);
            else if (!element.Peek.IsWord("like")) ParseColumn(element, table);
        }
    }

    private static bool IsTableConstraint(Cursor c) =>
        c.Peek.Kind == SqlTokenKind.Word && c.Peek.Value is "constraint" or "primary" or "foreign" or "unique" or "check" or "exclude";

    private static void ParseColumn(Cursor c, Table table)
    {
        var name = c.Identifier();
        if (name is null) return;
        var (type, serial) = ParseType(c);
        bool nullable = !serial;
        while (!c.AtEnd)
        {
            if (c.Accept("constraint")) c.Identifier();
            else if (c.Accept("not", "null")) nullable = false;
            else if (c.Accept("null")) nullable = true;
            else if (c.Accept("primary", "key"))
            {
                nullable = false;
                table.SetPrimaryKey([name], null);
            }
            else if (c.Accept("unique")) table.AddUnique([name], null);
            else if (c.Accept("references")) ParseReferences(c, table, [name]);
            else if (c.Accept("generated"))
            {
                // GENERATED ... AS IDENTITY is NOT NULL; GENERATED ALWAYS AS (expr) STORED is not.
                if (!c.Accept("always")) c.Accept("by", "default");
                if (c.Rest().TakeWhile(t => !IsConstraintStart(t)).Any(t => t.IsWord("identity"))) nullable = false;
                c.SkipClause(IsConstraintStart);
            }
            else
            {
                // DEFAULT expr, CHECK (...), COLLATE x, DEFERRABLE ...: skipped up to the next constraint.
                if (c.Next().IsWord("default")) c.Accept("null");
                c.SkipClause(IsConstraintStart);
            }
        }
        table.Columns.Add(new ColumnInfo(name, type, nullable));
    }

    private static bool IsConstraintStart(SqlToken token) => token.Kind == SqlTokenKind.Word && ColumnConstraintWords.Contains(token.Value);

    /// <summary>The column type as format_type() would spell it, and whether it was a serial type (NOT NULL by definition).</summary>
    private static (string Type, bool Serial) ParseType(Cursor c)
    {
        var words = new List<string>();
        string modifier = "", array = "";
        while (!c.AtEnd && !IsConstraintStart(c.Peek))
        {
            var token = c.Next();
            if (token.IsSymbol("(")) modifier = "(" + string.Join(",", c.UntilClosingParen().Select(t => t.Value).Where(v => v != ",")) + ")";
            else if (token.IsSymbol("[")) array += "[]";
            else if (token.IsIdentifier) words.Add(token.Value);
        }
        if (words.Count == 0) return ("", false);
        bool serial = words is [var only] && only.Contains("serial", StringComparison.Ordinal);
        var type = string.Join(' ', words);
        string[] zoned = ["timestamp", "time"];
        if (zoned.Contains(words[0]) && words.Count > 1)
            // timestamp(3) with time zone: the precision goes after the first word.
            return (words[0] + modifier + " " + string.Join(' ', words.Skip(1)) + array, serial);
        if (words.Count == 1 && TypeAliases.TryGetValue(type, out var canonical))
        {
            if (canonical.EndsWith(" time zone", StringComparison.Ordinal) && modifier.Length > 0)
                return (canonical.Insert(canonical.IndexOf(' '), modifier) + array, serial);
            type = canonical;
        }
        if (type == "character" && modifier.Length == 0) modifier = "(1)"; // char = char(1)
        return (type + modifier + array, serial);
    }

    private static void ParseTableConstraint(Cursor c, Table table)
    {
        string? constraint = c.Accept("constraint") ? c.Identifier() : null;
        if (c.Accept("primary", "key")) table.SetPrimaryKey(c.NameList(), constraint);
        else if (c.Accept("unique")) table.AddUnique(c.NameList(), constraint);
        else if (c.Accept("foreign", "key"))
        {
            var columns = c.NameList();
            if (c.Accept("references")) ParseReferences(c, table, columns);
        }
    }

    private static void ParseReferences(Cursor c, Table table, IReadOnlyList<string> columns)
    {
        var target = c.QualifiedName();
        if (target is null) return;
        var referenced = c.Peek.IsSymbol("(") ? c.NameList() : [];
        table.ForeignKeys.Add(new ForeignKeyInfo(columns, target, referenced));
        // MATCH FULL, ON DELETE SET NULL, ON UPDATE NO ACTION ...: read here, as "null" would otherwise start a constraint.
        while (true)
        {
            if (c.Accept("match")) c.Next();
            else if (c.Accept("on") && !c.AtEnd)
            {
                c.Next(); // DELETE / UPDATE
                if (c.Accept("set") || c.Accept("no")) { if (!c.AtEnd) c.Next(); }
                else if (!c.AtEnd) c.Next(); // CASCADE / RESTRICT
            }
            else break;
        }
    }

    private static void ParseCreateIndex(Cursor c, Dictionary<string, Table> tables, bool unique)
    {
        c.Accept("concurrently");
        c.Accept("if", "not", "exists");
        string? name = c.Peek.IsWord("on") ? null : c.QualifiedName();
        if (!c.Accept("on")) return;
        c.Accept("only");
        var tableName = c.QualifiedName();
        if (tableName is null || !tables.TryGetValue(tableName, out var table)) return;
        if (c.Accept("using")) c.Identifier();
        if (!c.Peek.IsSymbol("(")) return;
        var columns = c.ParenthesizedList($"CREATE INDEX on {tableName}").Select(IndexColumn).Where(k => k.Length > 0).ToList();
        table.Indexes.Add(new IndexInfo(name ?? table.DefaultIndexName(columns, "idx"), columns, unique));
    }

    /// <summary>An index key: a column name (without ASC/DESC, NULLS ..., opclass), or an expression's text.</summary>
    private static string IndexColumn(Cursor key)
    {
        if (key.AtEnd) return "";
        if (key.Peek.IsIdentifier && key.Rest().Skip(1).All(t => t.Kind == SqlTokenKind.Word)) return key.Next().Value;
        var tokens = key.Rest().ToList();
        // A trailing ASC/DESC/NULLS FIRST after an expression is not part of it.
        while (tokens.Count > 1 && tokens[^1].Kind == SqlTokenKind.Word && tokens[^2].Kind is SqlTokenKind.Word or SqlTokenKind.Symbol
               && tokens[^1].Value is "asc" or "desc" or "first" or "last" or "nulls") tokens.RemoveAt(tokens.Count - 1);
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            bool spaced = i > 0 && tokens[i].Kind != SqlTokenKind.Symbol && tokens[i - 1].Kind != SqlTokenKind.Symbol;
            text.Append(spaced ? " " : "").Append(tokens[i].Kind switch
            {
                SqlTokenKind.QuotedIdentifier => SqlIdentifier.Quote(tokens[i].Value),
                SqlTokenKind.String => "'" + tokens[i].Value.Replace("'", "''", StringComparison.Ordinal) + "'",
                _ => tokens[i].Value,
            });
        }
        var expression = text.ToString();
        // CREATE INDEX ON t ((lower(email))): the extra parentheses only delimit the expression.
        return Wrapped(tokens) ? expression[1..^1] : expression;
    }

    /// <summary>Whether the tokens are one parenthesized group: "(a + b)", not "(a) + (b)".</summary>
    private static bool Wrapped(List<SqlToken> tokens)
    {
        int depth = 0;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].IsSymbol("(")) depth++;
            else if (tokens[i].IsSymbol(")") && --depth == 0) return i == tokens.Count - 1 && tokens[0].IsSymbol("(");
        }
        return false;
    }

    private static void ParseAlterTable(Cursor c, Dictionary<string, Table> tables)
    {
        c.Accept("if", "exists");
        c.Accept("only");
        var name = c.QualifiedName();
        if (name is null || !tables.TryGetValue(name, out var table)) return;
        foreach (var action in c.CommaList())
        {
            if (!action.Accept("add")) continue;
            if (IsTableConstraint(action)) ParseTableConstraint(action, table);
            else
            {
                action.Accept("column");
                action.Accept("if", "not", "exists");
                ParseColumn(action, table);
            }
        }
    }

    private sealed class Table(string name)
    {
        public string Name { get; } = name;
        public List<ColumnInfo> Columns { get; } = [];
        public IReadOnlyList<string> PrimaryKey { get; private set; } = [];
        public List<ForeignKeyInfo> ForeignKeys { get; } = [];
        public List<IndexInfo> Indexes { get; } = [];

        public void SetPrimaryKey(IReadOnlyList<string> columns, string? constraint)
        {
            PrimaryKey = columns;
            Indexes.Add(new IndexInfo(constraint ?? Name + "_pkey", columns, true));
            // Primary key columns are NOT NULL, whatever their definition said.
            for (int i = 0; i < Columns.Count; i++)
                if (columns.Contains(Columns[i].Name)) Columns[i] = Columns[i] with { Nullable = false };
        }

        public void AddUnique(IReadOnlyList<string> columns, string? constraint) =>
            Indexes.Add(new IndexInfo(constraint ?? DefaultIndexName(columns, "key"), columns, true));

        /// <summary>PostgreSQL's default name: table_col1_col2_key / _idx.</summary>
        public string DefaultIndexName(IReadOnlyList<string> columns, string suffix) =>
            $"{Name}_{string.Join("_", columns.Select(c => new string(c.Where(char.IsLetterOrDigit).ToArray())))}_{suffix}";

        public TableInfo Build()
        {
            // A PRIMARY KEY declared before its columns (in ALTER TABLE) still makes them NOT NULL.
            var columns = Columns.Select(c => PrimaryKey.Contains(c.Name) ? c with { Nullable = false } : c).ToList();
            return new TableInfo(Name, columns, PrimaryKey, ForeignKeys, Indexes, 0);
        }
    }

    /// <summary>A position in one statement's tokens.</summary>
    private sealed class Cursor(List<SqlToken> tokens, int start = 0, int end = -1)
    {
        private readonly int _end = end < 0 ? tokens.Count : end;
        private int _at = start;

        public bool AtEnd => _at >= _end;
        public SqlToken Peek => AtEnd ? default : tokens[_at];
        public SqlToken Next() => tokens[_at++];
        public IEnumerable<SqlToken> Rest() => tokens.Skip(_at).Take(_end - _at);

        /// <summary>Consumes the words when they come next, in order.</summary>
        public bool Accept(params string[] words)
        {
            for (int i = 0; i < words.Length; i++)
                if (_at + i >= _end || !tokens[_at + i].IsWord(words[i])) return false;
            _at += words.Length;
            return true;
        }

        public bool AcceptAny(params string[] words) => words.Any(w => Accept(w));

        public string? Identifier() => !AtEnd && Peek.IsIdentifier ? Next().Value : null;

        /// <summary>Skips tokens (a parenthesized group as one) up to one where <paramref name="stop"/> holds.</summary>
        public void SkipClause(Func<SqlToken, bool> stop)
        {
            while (!AtEnd && !stop(Peek))
            {
                if (Peek.IsSymbol("(")) _at = (FindClose(_at) ?? throw new FormatException("unbalanced parentheses")) + 1;
                else _at++;
            }
        }

        /// <summary>[schema.]name: the last part.</summary>
        public string? QualifiedName()
        {
            var name = Identifier();
            while (name is not null && Peek.IsSymbol(".") && _at + 1 < _end && tokens[_at + 1].IsIdentifier)
            {
                _at++;
                name = Next().Value;
            }
            return name;
        }

        /// <summary>(a, b, c) as names.</summary>
        public IReadOnlyList<string> NameList() =>
            Peek.IsSymbol("(") ? ParenthesizedList("column list").Select(e => e.Identifier()).OfType<string>().ToList() : [];

        /// <summary>The top-level comma-separated elements of the parenthesized list starting here.</summary>
        public List<Cursor> ParenthesizedList(string what)
        {
            int open = _at++;
            int close = FindClose(open) ?? throw new FormatException($"unbalanced parentheses in {what}");
            var elements = Split(open + 1, close);
            _at = close + 1;
            return elements;
        }

        /// <summary>The rest of the statement, split on top-level commas.</summary>
        public List<Cursor> CommaList()
        {
            var elements = Split(_at, _end);
            _at = _end;
            return elements;
        }

        /// <summary>Tokens up to the ')' matching an already consumed '('.</summary>
        public List<SqlToken> UntilClosingParen()
        {
            int close = FindClose(_at - 1) ?? throw new FormatException("unbalanced parentheses in a type");
            var inner = tokens.GetRange(_at, close - _at);
            _at = close + 1;
            return inner;
        }

        private int? FindClose(int open)
        {
            int depth = 0;
            for (int i = open; i < _end; i++)
            {
                if (tokens[i].IsSymbol("(")) depth++;
                else if (tokens[i].IsSymbol(")") && --depth == 0) return i;
            }
            return null;
        }

        private List<Cursor> Split(int from, int to)
        {
            var elements = new List<Cursor>();
            int depth = 0, elementStart = from;
            for (int i = from; i < to; i++)
            {
                if (tokens[i].IsSymbol("(") || tokens[i].IsSymbol("[")) depth++;
                else if (tokens[i].IsSymbol(")") || tokens[i].IsSymbol("]")) depth--;
                else if (tokens[i].IsSymbol(",") && depth == 0)
                {
                    elements.Add(new Cursor(tokens, elementStart, i));
                    elementStart = i + 1;
                }
            }
            elements.Add(new Cursor(tokens, elementStart, to));
            return elements;
        }
    }
}
