using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

/// <summary>The lexical side, without a database: schema names, tokens, statements, identifiers.</summary>
public sealed class SqlTextTests
{
    [Theory]
    [InlineData("tenant_acme")]
    [InlineData("tenant_mukulah")]
    [InlineData("_t1")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")] // 63 characters
    public void Tenant_schema_names_are_allowed(string schema)
    {
        Assert.Null(new TenantSchemaName().Problem(schema));
    }

    [Theory]
    [InlineData("pg_catalog", "is a system schema")]
    [InlineData("PG_CATALOG", "is a system schema")]
    [InlineData("pg_toast", "is a system schema")]
    [InlineData("pg_temp_3", "is a system schema")]
    [InlineData("information_schema", "is a system schema")]
    [InlineData("public", "is not a tenant schema name")]
    [InlineData("tenant_acme; DROP TABLE users", "is not a tenant schema name")]
    [InlineData("tenant_acme\"", "is not a tenant schema name")]
    [InlineData("tenant_acme'", "is not a tenant schema name")]
    [InlineData("tenant_acme\n", "is not a tenant schema name")]
    [InlineData("Tenant", "is not a tenant schema name")]
    [InlineData("1tenant", "is not a tenant schema name")]
    [InlineData("tenant-acme", "is not a tenant schema name")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234", "is longer than 63 bytes")]
    [InlineData("", "a schema name is required")]
    public void Other_names_are_refused(string schema, string reason)
    {
        var problem = new TenantSchemaName().Problem(schema);
        Assert.NotNull(problem);
        Assert.Contains(reason, problem);
        Assert.Equal(problem, Assert.Throws<SqlRefusedException>(() => new TenantSchemaName().Require(schema)).Message);
    }

    [Fact]
    public void The_pattern_is_a_setting_but_system_schemas_stay_refused()
    {
        var names = new TenantSchemaName("^(tenant_[a-z]+|public)$");
        Assert.True(names.IsAllowed("public"));
        Assert.True(names.IsAllowed("tenant_acme"));
        Assert.False(names.IsAllowed("other"));
        Assert.False(new TenantSchemaName(".*").IsAllowed("pg_catalog"));
        Assert.False(new TenantSchemaName(".*").IsAllowed("information_schema"));
    }

    [Fact]
    public void A_refusal_shows_the_name_without_control_characters()
    {
        var problem = new TenantSchemaName().Problem("bad\nname\u001b[31m")!;
        Assert.StartsWith("schema name \"bad\\u000aname\\u001b[31m\" ", problem);
    }

    [Fact]
    public void Tokens_keep_strings_identifiers_and_comments_apart()
    {
        var tokens = SqlLexer.Tokenize("SELECT \"Weird\"\"Name\", E'a\\'b;', $q$ x;y $q$, 'it''s', U&\"d\\0061t\" -- tail;\n/* a /* b */ c; */ FROM T1 WHERE x::text = $1;");
        Assert.Equal(
            [
                (SqlTokenKind.Word, "select"), (SqlTokenKind.QuotedIdentifier, "Weird\"Name"), (SqlTokenKind.Symbol, ","),
                (SqlTokenKind.String, "E'a\\'b;'"), (SqlTokenKind.Symbol, ","), (SqlTokenKind.String, "$q$ x;y $q$"), (SqlTokenKind.Symbol, ","),
                (SqlTokenKind.String, "'it''s'"), (SqlTokenKind.Symbol, ","), (SqlTokenKind.QuotedIdentifier, "U&\"d\\0061t\""),
                (SqlTokenKind.Word, "from"), (SqlTokenKind.Word, "t1"), (SqlTokenKind.Word, "where"), (SqlTokenKind.Word, "x"),
                (SqlTokenKind.Symbol, "::"), (SqlTokenKind.Word, "text"), (SqlTokenKind.Symbol, "="), (SqlTokenKind.Parameter, "$1"),
                (SqlTokenKind.Semicolon, ";"),
            ],
            tokens.Select(t => (t.Kind, t.Value)));
    }

    [Theory]
    [InlineData("SELECT 1", "select", true)]
    [InlineData("  -- lead\n (SELECT 1) UNION (SELECT 2);;", "(", true)]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x", "with", true)]
    [InlineData("VALUES (1), (2)", "values", true)]
    [InlineData("WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x", "with", false)]
    [InlineData("SELECT * INTO t2 FROM t", "select", false)]
    [InlineData("SELECT * FROM t FOR UPDATE", "select", false)]
    [InlineData("SELECT \"update\", 'delete' FROM t", "select", true)]
    [InlineData("DELETE FROM t", "delete", false)]
    public void Statements_are_classified(string sql, string first, bool readOnly)
    {
        var statement = SqlStatement.TryParse(sql, out var error)!;
        Assert.Null(error);
        Assert.Equal(first, statement.FirstKeyword);
        Assert.Equal(readOnly, statement.IsReadOnlyQuery);
    }

    [Fact]
    public void The_statement_text_drops_trailing_semicolons()
    {
        Assert.Equal("SELECT 1 /* keep */ + 2", SqlStatement.TryParse("-- lead\nSELECT 1 /* keep */ + 2 ; ; -- end", out _)!.Text);
    }

    [Fact]
    public void Qualifiers_and_called_names()
    {
        var statement = SqlStatement.TryParse("SELECT o.id, s.t.c, lower(x), \"Q\".* FROM s.t JOIN \"Q\" ON true", out _)!;
        Assert.Equal(["o", "s", "t", "Q", "s"], statement.Qualifiers());
        Assert.Equal(["lower"], statement.CalledNames());
    }

    [Theory]
    [InlineData("users", "users")]
    [InlineData("Users", "\"Users\"")]
    [InlineData("order", "\"order\"")]
    [InlineData("a\"b", "\"a\"\"b\"")]
    [InlineData("first name", "\"first name\"")]
    public void Identifiers_are_quoted_only_when_needed(string name, string quoted)
    {
        Assert.Equal(quoted, SqlIdentifier.Quote(name));
    }
}

public sealed class SqlIdentifierQuotingTests
{
    [Theory]
    [InlineData("orders", "orders")]
    [InlineData("left", "\"left\"")]
    [InlineData("like", "\"like\"")]
    [InlineData("select", "\"select\"")]
    [InlineData("Order Items", "\"Order Items\"")]
    [InlineData("a\"b", "\"a\"\"b\"")]
    public void Keywords_that_cannot_stand_bare_and_odd_names_are_quoted(string name, string expected) =>
        Assert.Equal(expected, Inference.Server.Platform.Sql.SqlIdentifier.Quote(name));
}
