using System.Text;
using Inference.Server.Platform.Sql;
using Inference.Tests.Platform.Sql;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// Tenant schemas the grammar tests run over, from plain to hostile names: mixed case, spaces, quotes,
/// backslashes, keywords, non-ASCII, 63-byte names, types a grammar must not compare, a table without
/// columns and a self-reference. <see cref="Ddl"/> creates the same tables in PostgreSQL.
/// </summary>
public static class SqlSchemaCorpus
{
    private static ColumnInfo C(string name, string type, bool nullable = true) => new(name, type, nullable);

    private static TableInfo T(string name, ColumnInfo[] columns, string[]? key = null, ForeignKeyInfo[]? fks = null) =>
        new(name, columns, key ?? [], fks ?? [], [], 0);

    private static ForeignKeyInfo Fk(string column, string table, string referenced = "id") => new([column], table, [referenced]);

    public static readonly IReadOnlyDictionary<string, IReadOnlyList<TableInfo>> Schemas = new Dictionary<string, IReadOnlyList<TableInfo>>
    {
        ["shop"] =
        [
            T("users", [C("id", "integer", false), C("email", "text", false), C("name", "character varying(100)"), C("created_at", "timestamp with time zone"), C("active", "boolean")], ["id"]),
            T("products", [C("id", "integer", false), C("name", "text"), C("price", "numeric(10,2)"), C("stock", "integer"), C("category", "text")], ["id"]),
            T("orders", [C("id", "bigint", false), C("user_id", "integer"), C("total", "numeric(10,2)"), C("status", "text"), C("created_at", "timestamp without time zone"), C("shipped", "boolean")],
                ["id"], [Fk("user_id", "users")]),
            T("order_items", [C("order_id", "bigint", false), C("product_id", "integer", false), C("quantity", "smallint"), C("unit_price", "double precision")],
                ["order_id", "product_id"], [Fk("order_id", "orders"), Fk("product_id", "products")]),
        ],
        ["odd names"] =
        [
            T("user", [C("id", "integer", false), C("select", "text"), C("from", "boolean"), C("Größe", "real"), C("Full Name", "text"), C("manager", "integer"), C("joined", "date")],
                ["id"], [Fk("manager", "user")]),
            T("Order Items", [C("id", "integer", false), C("Qty", "integer"), C("unit price", "numeric"), C("Note\"s", "character(8)"), C("user", "integer"), C("back\\slash", "text"), C("order", "timestamp(3) with time zone")],
                ["id"], [Fk("user", "user")]),
            T("ÆØÅ \"quoted\" table", [C("ref", "uuid"), C("payload", "jsonb"), C("tags", "text[]"), C("span", "interval"), C("raw", "bytea"), C("Item Id", "integer")],
                [], [new ForeignKeyInfo(["Item Id"], "Order Items", ["id"])]),
        ],
        ["long names"] =
        [
            T(new string('t', 63), [C(new string('c', 63), "integer", false), C("Mixed_" + new string('X', 57), "text")], [new string('c', 63)]),
            T("x" + new string('_', 62), [C("y", "date"), C("T" + new string('_', 62), "integer")], [], [new ForeignKeyInfo(["T" + new string('_', 62)], new string('t', 63), [new string('c', 63)])]),
        ],
        ["sparse"] =
        [
            T("nothing", []),
            T("documents", [C("body", "json"), C("meta", "jsonb"), C("flags", "bit(3)")]),
        ],
    };

    public static IEnumerable<object[]> Names() => Schemas.Keys.Select(k => new object[] { k });

    /// <summary>CREATE statements for the tables, in a new schema.</summary>
    public static string Ddl(string schema, IReadOnlyList<TableInfo> tables)
    {
        var sb = new StringBuilder();
        sb.Append($"CREATE SCHEMA {SqlGrammarIdentifiers.Quote(schema)};\n");
        foreach (var t in tables)
        {
            var parts = t.Columns.Select(c => $"{SqlGrammarIdentifiers.Quote(c.Name)} {c.DataType}{(c.Nullable ? "" : " NOT NULL")}").ToList();
            if (t.PrimaryKey.Count > 0) parts.Add($"PRIMARY KEY ({string.Join(", ", t.PrimaryKey.Select(SqlGrammarIdentifiers.Quote))})");
            sb.Append($"CREATE TABLE {SqlGrammarIdentifiers.Quote(schema)}.{SqlGrammarIdentifiers.Quote(t.Name)} ({string.Join(", ", parts)});\n");
        }
        foreach (var t in tables)
            foreach (var fk in t.ForeignKeys)
                sb.Append($"ALTER TABLE {SqlGrammarIdentifiers.Quote(schema)}.{SqlGrammarIdentifiers.Quote(t.Name)} ADD FOREIGN KEY ({string.Join(", ", fk.Columns.Select(SqlGrammarIdentifiers.Quote))}) " +
                          $"REFERENCES {SqlGrammarIdentifiers.Quote(schema)}.{SqlGrammarIdentifiers.Quote(fk.ReferencedTable)} ({string.Join(", ", fk.ReferencedColumns.Select(SqlGrammarIdentifiers.Quote))});\n");
        return sb.ToString();
    }

    /// <summary>Every corpus schema created in the test database (as grammar_0, grammar_1, ...), for EXPLAIN.</summary>
    public sealed class InDatabase(TestDatabase database) : IAsyncLifetime
    {
        public static string SchemaOf(string name) => "grammar_" + Schemas.Keys.ToList().IndexOf(name);

        public async Task InitializeAsync()
        {
            // Several test classes share the database: the schemas are made anew for each.
            foreach (var (name, tables) in Schemas)
                await database.ExecuteAsync($"DROP SCHEMA IF EXISTS {SchemaOf(name)} CASCADE;\n" + Ddl(SchemaOf(name), tables));
        }

        public Task DisposeAsync() => Task.CompletedTask; // the test database is dropped as a whole

        public Task<string?> ExplainErrorAsync(string name, string sql) => SqlExplain.ErrorAsync(database.DataSource, SchemaOf(name), sql);
    }
}
