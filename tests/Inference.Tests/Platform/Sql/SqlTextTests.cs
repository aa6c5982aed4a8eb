using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

/// <summary>Without a database: schema names and identifier quoting (tokens: <see cref="SqlLexerTests"/>; statements: <see cref="SqlQueryParserTests"/>).</summary>
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
