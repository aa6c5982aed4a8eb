namespace Inference.Server.Platform.Sql;

/// <summary>
/// Expressions, by PostgreSQL's precedence from loosest to tightest: OR, AND, NOT, IS, comparison,
/// BETWEEN / IN / LIKE / ILIKE, || , + -, * / %, AT TIME ZONE, unary + -, :: casts. Primaries:
/// literals, column references, allowlisted function calls (with DISTINCT, ORDER BY, FILTER and
/// OVER where they apply), CAST, CASE, COALESCE, NULLIF, GREATEST, LEAST, EXTRACT, SUBSTRING,
/// POSITION, TRIM, CURRENT_DATE and friends, typed literals (date '2024-01-01'), scalar, EXISTS,
/// IN and ANY/ALL subqueries.
/// </summary>
internal sealed partial class SqlQueryParser
{
    private void Expression(QueryLevel level, CteScope? ctes)
    {
        Enter();
        Or(level, ctes);
        Leave();
    }

    /// <summary>Expressions separated by commas; returns how many.</summary>
    private int ExpressionList(QueryLevel level, CteScope? ctes)
    {
        int count = 0;
        do
        {
            Expression(level, ctes);
            count++;
        }
        while (Accept(","));
        return count;
    }

    private void Or(QueryLevel level, CteScope? ctes)
    {
        And(level, ctes);
        while (AcceptWord("or")) And(level, ctes);
    }

    private void And(QueryLevel level, CteScope? ctes)
    {
        Not(level, ctes);
        while (AcceptWord("and")) Not(level, ctes);
    }

    private void Not(QueryLevel level, CteScope? ctes)
    {
        while (AcceptWord("not")) { }
        Is(level, ctes);
    }

    /// <summary>IS [NOT] NULL / TRUE / FALSE / UNKNOWN / DISTINCT FROM x, ISNULL, NOTNULL.</summary>
    private void Is(QueryLevel level, CteScope? ctes)
    {
        Comparison(level, ctes);
        while (true)
        {
            if (AcceptWord("isnull") || AcceptWord("notnull")) continue;
            if (!AcceptWord("is")) return;
            AcceptWord("not");
            if (AcceptWord("null") || AcceptWord("true") || AcceptWord("false") || AcceptWord("unknown")) continue;
            if (AcceptWord("distinct"))
            {
                ExpectWord("from");
                Comparison(level, ctes);
                continue;
            }
            throw Expected("NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM after IS");
        }
    }

    /// <summary>a = b, a &lt; ANY (subquery), ...</summary>
    private void Comparison(QueryLevel level, CteScope? ctes)
    {
        Range(level, ctes);
        while (Peek.Kind == SqlTokenKind.Symbol && SqlAllowlist.ComparisonOperators.Contains(Peek.Value))
        {
            Next();
            if ((IsWord("any") || IsWord("all") || IsWord("some")) && PeekAt(1).IsSymbol("("))
            {
                var quantifier = Next().Value.ToUpperInvariant();
                Expect("(");
                if (!(IsWord("select") || IsWord("with") || IsWord("values") || StartsParenthesizedSelect()))
                    throw new SqlLanguageException($"{quantifier} is only allowed with a subquery here");
                Subquery(level, ctes);
                Expect(")");
            }
            else Range(level, ctes);
        }
    }

    /// <summary>[NOT] BETWEEN [SYMMETRIC] a AND b, [NOT] IN (list | subquery), [NOT] LIKE / ILIKE p [ESCAPE e].</summary>
    private void Range(QueryLevel level, CteScope? ctes)
    {
        Other(level, ctes);
        while (true)
        {
            int mark = _at;
            bool not = AcceptWord("not");
            if (AcceptWord("between"))
            {
                if (!AcceptWord("symmetric")) AcceptWord("asymmetric");
                Other(level, ctes);
                ExpectWord("and");
                Other(level, ctes);
            }
            else if (AcceptWord("in"))
            {
                Expect("(");
                if (IsWord("select") || IsWord("with") || IsWord("values") || StartsParenthesizedSelect()) Subquery(level, ctes);
                else ExpressionList(level, ctes);
                Expect(")");
            }
            else if (AcceptWord("like") || AcceptWord("ilike"))
            {
                Other(level, ctes);
                if (AcceptWord("escape")) Other(level, ctes);
            }
            else if (IsWord("similar")) throw new SqlLanguageException("SIMILAR TO is not allowed: use LIKE or regexp_like");
            else
            {
                _at = mark; // a NOT here belongs to no range test: let the caller report it
                if (not) throw Unexpected();
                return;
            }
        }
    }

    /// <summary>|| and any operator that is not on the allowlist (refused here, with its name).</summary>
    private void Other(QueryLevel level, CteScope? ctes)
    {
        Additive(level, ctes);
        while (true)
        {
            if (Accept("||"))
            {
                Additive(level, ctes);
                continue;
            }
            if (IsOperator(Peek) && !SqlAllowlist.ComparisonOperators.Contains(Peek.Value))
                throw new SqlLanguageException($"operator {Peek.Value} is not allowed");
            return;
        }
    }

    private void Additive(QueryLevel level, CteScope? ctes)
    {
        Multiplicative(level, ctes);
        while (Accept("+") || Accept("-")) Multiplicative(level, ctes);
    }

    private void Multiplicative(QueryLevel level, CteScope? ctes)
    {
        AtTimeZone(level, ctes);
        while (Accept("*") || Accept("/") || Accept("%")) AtTimeZone(level, ctes);
    }

    private void AtTimeZone(QueryLevel level, CteScope? ctes)
    {
        Unary(level, ctes);
        while (IsWord("at") && PeekAt(1).IsWord("time"))
        {
            _at += 2;
            ExpectWord("zone");
            Unary(level, ctes);
        }
    }

    private void Unary(QueryLevel level, CteScope? ctes)
    {
        while (Accept("+") || Accept("-")) { }
        if (IsOperator(Peek)) throw new SqlLanguageException($"operator {Peek.Value} is not allowed");
        Postfix(level, ctes);
    }

    /// <summary>A primary with its :: casts; subscripts and COLLATE are refused.</summary>
    private void Postfix(QueryLevel level, CteScope? ctes)
    {
        Primary(level, ctes);
        while (true)
        {
            if (Accept("::")) TypeName();
            else if (Peek.IsSymbol("[")) throw new SqlLanguageException("array subscripts are not allowed");
            else if (IsWord("collate")) throw new SqlLanguageException("COLLATE is not allowed");
            else return;
        }
    }

    private static bool IsOperator(SqlToken token) =>
        token.Kind == SqlTokenKind.Symbol && token.Value.Length > 0 && token.Value.All(c => "~!@#^&|`?+-*/%<>=".Contains(c));

    private void Primary(QueryLevel level, CteScope? ctes)
    {
        var token = Peek;
        switch (token.Kind)
        {
            case SqlTokenKind.Number:
                Next();
                return;
            case SqlTokenKind.String:
                StringConstant();
                return;
            case SqlTokenKind.Parameter:
                throw new SqlLanguageException($"parameters ({token.Value}) are not allowed: write the value into the statement");
            case SqlTokenKind.Symbol when token.Value == "(":
                Next();
                if (IsWord("select") || IsWord("with") || IsWord("values")) Subquery(level, ctes);
                else
                {
                    Expression(level, ctes);
                    if (Peek.IsSymbol(",")) throw new SqlLanguageException("row constructors are not allowed");
                }
                Expect(")");
                if (Peek.IsSymbol(".")) throw new SqlLanguageException("field selection from an expression is not allowed");
                return;
            case SqlTokenKind.Word:
                if (Keyword(level, ctes)) return;
                if (Reserved.Contains(token.Value)) throw Unexpected();
                if (TypeFunctionKeywords.Contains(token.Value) && !PeekAt(1).IsSymbol("(")) throw Unexpected();
                NameExpression(level, ctes);
                return;
            case SqlTokenKind.QuotedIdentifier:
                NameExpression(level, ctes);
                return;
            default:
                throw Unexpected();
        }
    }

    private void StringConstant()
    {
        var token = Next();
        switch (token.StringKind)
        {
            case SqlStringKind.Bit or SqlStringKind.Hex: throw new SqlLanguageException("bit-string constants are not allowed");
            case SqlStringKind.National: throw new SqlLanguageException("national character constants (N'...') are not allowed");
        }
    }

    /// <summary>A subquery in an expression: it sees this level's columns (correlation).</summary>
    private void Subquery(QueryLevel level, CteScope? ctes) => SelectStatement(level, ctes);

    /// <summary>The keyword-led expressions; false when the word leads none of them.</summary>
    private bool Keyword(QueryLevel level, CteScope? ctes)
    {
        switch (Peek.Value)
        {
            case "true" or "false" or "null":
                Next();
                return true;
            case "case":
                Next();
                if (!IsWord("when")) Expression(level, ctes);
                do
                {
                    ExpectWord("when");
                    Expression(level, ctes);
                    ExpectWord("then");
                    Expression(level, ctes);
                }
                while (IsWord("when"));
                if (AcceptWord("else")) Expression(level, ctes);
                ExpectWord("end");
                return true;
            case "cast":
                Next();
                Expect("(");
                Expression(level, ctes);
                ExpectWord("as");
                TypeName();
                Expect(")");
                return true;
            case "exists":
                Next();
                Expect("(");
                Subquery(level, ctes);
                Expect(")");
                return true;
            case "coalesce" or "greatest" or "least" or "nullif" when PeekAt(1).IsSymbol("("):
                _at += 2;
                ExpressionList(level, ctes);
                Expect(")");
                return true;
            case "extract" when PeekAt(1).IsSymbol("("):
                _at += 2;
                var field = Peek.Kind == SqlTokenKind.String ? Peek.Value.ToLowerInvariant() : Peek.IsIdentifier ? Peek.Value : "";
                if (!SqlAllowlist.ExtractFields.Contains(field)) throw Expected("a field for EXTRACT (year, month, day, hour, epoch, ...)");
                Next();
                ExpectWord("from");
                Expression(level, ctes);
                Expect(")");
                return true;
            case "substring" when PeekAt(1).IsSymbol("("):
                _at += 2;
                Expression(level, ctes);
                if (AcceptWord("from"))
                {
                    Expression(level, ctes);
                    if (AcceptWord("for")) Expression(level, ctes);
                }
                else if (AcceptWord("for"))
                {
                    Expression(level, ctes);
                    if (AcceptWord("from")) Expression(level, ctes);
                }
                else if (IsWord("similar")) throw new SqlLanguageException("SUBSTRING ... SIMILAR is not allowed");
                else while (Accept(",")) Expression(level, ctes);
                Expect(")");
                return true;
            case "position" when PeekAt(1).IsSymbol("("):
                _at += 2;
                Other(level, ctes);
                ExpectWord("in");
                Other(level, ctes);
                Expect(")");
                return true;
            case "trim" when PeekAt(1).IsSymbol("("):
                _at += 2;
                if (!AcceptWord("both") && !AcceptWord("leading")) AcceptWord("trailing");
                if (AcceptWord("from")) ExpressionList(level, ctes);
                else
                {
                    Expression(level, ctes);
                    if (AcceptWord("from")) ExpressionList(level, ctes);
                    else while (Accept(",")) Expression(level, ctes);
                }
                Expect(")");
                return true;
            case "current_date":
                Next();
                return true;
            case "current_timestamp" or "current_time" or "localtimestamp" or "localtime":
                Next();
                if (Accept("("))
                {
                    if (Next().Kind != SqlTokenKind.Number) throw Expected("a precision");
                    Expect(")");
                }
                return true;
            case "interval" or "timestamp" or "time" or "double" or "character" or "char" or "varchar" or "numeric" or "decimal" or "dec"
                or "int" or "integer" or "smallint" or "bigint" or "real" or "float" or "boolean" or "bit" or "national" or "nchar":
            {
                // A keyword type name followed by a string is a typed literal (interval '1 day'); otherwise
                // the word is a column name, as PostgreSQL reads a column called "timestamp".
                int mark = _at;
                try { TypeName(); }
                catch (SqlLanguageException) { _at = mark; return false; }
                if (Peek.Kind != SqlTokenKind.String) { _at = mark; return false; }
                StringConstant();
                if (Peek.Kind == SqlTokenKind.Word && SqlAllowlist.ExtractFields.Contains(Peek.Value) && !PeekAt(1).IsSymbol(","))
                    throw new SqlLanguageException("interval field qualifiers are not allowed: write interval '1 day'");
                return true;
            }
            case "array" or "row":
                throw new SqlLanguageException($"{Peek.Value.ToUpperInvariant()} constructors are not allowed");
            case "current_user" or "session_user" or "current_role" or "user" or "current_catalog" or "current_schema" or "system_user":
                throw new SqlLanguageException($"{Peek.Value.ToUpperInvariant()} is not allowed");
            default:
                return false;
        }
    }

    /// <summary>A name chain: a column reference (a, t.a, schema.t.a, t.*), a function call, or a typed literal ("date" '2024-01-01').</summary>
    private void NameExpression(QueryLevel level, CteScope? ctes)
    {
        var parts = new List<string> { Next().Value };
        bool star = false;
        while (Peek.IsSymbol("."))
        {
            if (PeekAt(1).IsSymbol("*"))
            {
                _at += 2;
                star = true;
                break;
            }
            if (!PeekAt(1).IsIdentifier) throw Unexpected();
            Next();
            parts.Add(Next().Value);
        }

        if (!star && Peek.IsSymbol("("))
        {
            FunctionCall(parts, level, ctes);
            return;
        }
        if (!star && Peek.Kind == SqlTokenKind.String)
        {
            // type 'literal': PostgreSQL reads any name before a string as a type.
            CheckType(parts);
            StringConstant();
            return;
        }

        var column = star ? "*" : parts[^1];
        var path = star ? parts : parts[..^1];
        switch (path.Count)
        {
            case 0:
                return; // an unqualified column: PostgreSQL only ever reads it as a column of a FROM item
            case 1:
                level.Pending.Add(new ColumnReference(path[0], column));
                return;
            case 2:
                if (path[0] != _schema.Name)
                    throw new SqlLanguageException($"relation {Show(path)} is outside schema {SqlIdentifier.Show(_schema.Name)}");
                level.Pending.Add(new ColumnReference(path[1], column));
                return;
            default:
                throw new SqlLanguageException($"column reference {Show(parts)} names another database");
        }
    }

    /// <summary>
    /// name(...) with the name on the allowlist, qualified with pg_catalog at most; then DISTINCT,
    /// ORDER BY, FILTER and OVER where the function is an aggregate or a window function.
    /// </summary>
    private void FunctionCall(List<string> parts, QueryLevel level, CteScope? ctes)
    {
        var shown = Show(parts);
        var name = parts[^1];
        if (parts.Count > 2 || parts.Count == 2 && parts[0] != SqlAllowlist.CatalogSchema || SqlAllowlist.Function(name) is not { } kind)
            throw new SqlLanguageException($"function {shown} is not allowed");

        Expect("(");
        if (Accept("*"))
        {
            if (name != "count") throw new SqlLanguageException($"{shown}(*) is not allowed: only count(*)");
        }
        else if (!Peek.IsSymbol(")"))
        {
            if (IsWord("distinct") || IsWord("all"))
            {
                if (kind != SqlFunctionKind.Aggregate) throw new SqlLanguageException($"DISTINCT is only allowed in aggregates, not in {shown}");
                Next();
            }
            do
            {
                if (PeekAt(1).IsSymbol("=>") || PeekAt(1).IsSymbol(":") && PeekAt(2).IsSymbol("="))
                    throw new SqlLanguageException($"named arguments are not allowed (in {shown})");
                Expression(level, ctes);
            }
            while (Accept(","));
            if (AcceptWords("order", "by"))
            {
                if (kind != SqlFunctionKind.Aggregate) throw new SqlLanguageException($"ORDER BY is only allowed in aggregates, not in {shown}");
                SortList(level, ctes);
            }
        }
        Expect(")");

        if (IsWord("within") && PeekAt(1).IsWord("group")) throw new SqlLanguageException("WITHIN GROUP is not allowed");
        if (AcceptWord("filter"))
        {
            if (kind != SqlFunctionKind.Aggregate) throw new SqlLanguageException($"FILTER is only allowed with aggregates, not with {shown}");
            Expect("(");
            ExpectWord("where");
            Expression(level, ctes);
            Expect(")");
        }
        if (AcceptWord("over"))
        {
            if (kind == SqlFunctionKind.Scalar) throw new SqlLanguageException($"OVER is only allowed with aggregates and window functions, not with {shown}");
            if (!Peek.IsSymbol("(")) throw new SqlLanguageException("named windows are not allowed: write the window after OVER");
            Window(level, ctes);
        }
    }

    /// <summary>OVER ([PARTITION BY ...] [ORDER BY ...]); frame clauses are not part of the language.</summary>
    private void Window(QueryLevel level, CteScope? ctes)
    {
        Expect("(");
        if (AcceptWords("partition", "by")) ExpressionList(level, ctes);
        if (AcceptWords("order", "by")) SortList(level, ctes);
        if (IsWord("rows") || IsWord("range") || IsWord("groups")) throw new SqlLanguageException("window frame clauses are not allowed");
        Expect(")");
    }

    /// <summary>A type for CAST, :: or a typed literal: one of <see cref="SqlAllowlist"/>'s scalar types, with an optional (precision[, scale]).</summary>
    private void TypeName()
    {
        var token = Peek;
        string name;
        if (token.Kind == SqlTokenKind.Word && token.Value is "double")
        {
            Next();
            ExpectWord("precision");
            name = "double precision";
        }
        else if (token.Kind == SqlTokenKind.Word && token.Value is "character" or "char")
        {
            Next();
            name = AcceptWord("varying") ? "character varying" : token.Value;
        }
        else if (token.Kind == SqlTokenKind.Word && token.Value is "national" or "nchar" or "bit" or "setof")
            throw new SqlLanguageException($"type {token.Value} is not allowed");
        else
        {
            var parts = QualifiedName("a type name");
            CheckType(parts);
            name = parts[^1];
        }
        if (Accept("("))
        {
            do
            {
                if (Next().Kind != SqlTokenKind.Number) throw Expected("a number in the type's modifier");
            }
            while (Accept(","));
            Expect(")");
        }
        if (name is "timestamp" or "time" && (IsWord("with") || IsWord("without")) && PeekAt(1).IsWord("time") && PeekAt(2).IsWord("zone"))
            _at += 3;
        if (name == "interval" && Peek.Kind == SqlTokenKind.Word && SqlAllowlist.ExtractFields.Contains(Peek.Value))
            throw new SqlLanguageException("interval field qualifiers are not allowed: write interval '1 day'");
        if (Peek.IsSymbol("[") || IsWord("array")) throw new SqlLanguageException("array types are not allowed");
        if (!SqlAllowlist.IsType(name)) throw new SqlLanguageException($"type {name} is not allowed");
    }

    private static void CheckType(List<string> parts)
    {
        if (parts.Count > 2 || parts.Count == 2 && parts[0] != SqlAllowlist.CatalogSchema || !SqlAllowlist.IsType(parts[^1]))
            throw new SqlLanguageException($"type {Show(parts)} is not allowed");
    }
}
