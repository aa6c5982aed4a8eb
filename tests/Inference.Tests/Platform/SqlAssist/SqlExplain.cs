using Npgsql;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>The tests' own judge of a statement: EXPLAIN in a rolled-back transaction with search_path set to one schema.</summary>
public static class SqlExplain
{
    /// <summary>PostgreSQL's error for <paramref name="sql"/> in <paramref name="schema"/>, or null when it can be planned.</summary>
    public static async Task<string?> ErrorAsync(NpgsqlDataSource database, string schema, string sql)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var path = new NpgsqlCommand("SELECT set_config('search_path', quote_ident($1), true)", connection, tx))
        {
            path.Parameters.AddWithValue(schema);
            await path.ExecuteNonQueryAsync();
        }
        try
        {
            await using var explain = new NpgsqlCommand("EXPLAIN " + sql, connection, tx);
            await explain.ExecuteNonQueryAsync();
            return null;
        }
        catch (PostgresException ex)
        {
            return ex.MessageText;
        }
    }
}
