using Inference.Engine.Grammar.Checking;
using Inference.Server.Platform.Sql;
using Xunit.Abstractions;

namespace Inference.Tests.Platform.SqlAssist;

public sealed class ScratchSqlTests(ITestOutputHelper output)
{
    private static TableInfo Table(string name, int columns, int nameLength, params ForeignKeyInfo[] fks) =>
        new(name, Enumerable.Range(0, columns).Select(i => new ColumnInfo((i == 0 ? "id" : $"c{i}_" + new string('x', nameLength)), (i % 4) switch { 0 => "integer", 1 => "text", 2 => "date", _ => "boolean" }, true)).ToList(),
            ["id"], fks, [], 0);

    [Theory]
    [InlineData(1, 1600, 58)]
    [InlineData(8, 1600, 58)]
    [InlineData(8, 100, 20)]
    public void Sizes(int tables, int columns, int nameLength)
    {
        var list = new List<TableInfo> { Table("wide", columns, nameLength) };
        for (int t = 1; t < tables; t++) list.Add(Table("t" + t, columns, nameLength, new ForeignKeyInfo(["id"], "wide", ["id"])));
        var g = SqlGrammar.ForStatement(list).Gbnf;
        var v = GbnfChecker.Check(g);
        output.WriteLine($"{tables}x{columns}: {g.Length} chars, {v.Problem} {v.Message} rules {v.RuleCount} elements {v.Elements}");
    }
}
