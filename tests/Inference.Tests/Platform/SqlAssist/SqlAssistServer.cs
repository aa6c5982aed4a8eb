using System.Text.Json.Nodes;
using Inference.Tests.Platform.Sql;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.SqlAssist;

/// <summary>
/// The real server on the test database (tenant_acme and tenant_globex), with the per-tenant reader
/// roles and a row limit of 5, shared by a test class. Alice may use tenant_acme only.
/// </summary>
public sealed class SqlAssistServer(TestDatabase database) : PlatformServer
{
    public const int RowLimit = 5;

    protected override IEnumerable<string> PlatformSettings =>
    [
        .. database.ServerSettings,
        $"--Platform:Database:TenantRole={database.TenantRole}",
        $"--Platform:Database:RowLimit={RowLimit}",
        "--Platform:RateLimits:SqlAssistPerHour=0",
    ];

    public TestDatabase Database => database;

    public Task<(int Status, JsonObject Body)> AssistAsync(object body, string? token = null) => PostAsync(this, body, token);

    /// <summary>POST /ai/sql/assist with a bearer token for alice (tenant_acme) unless another is given.</summary>
    public static async Task<(int Status, JsonObject Body)> PostAsync(TestServer server, object body, string? token = null)
    {
        using var client = TestTokens.Client(server, token ?? TestTokens.For("alice", TestDatabase.Acme));
        using var response = await client.PostAsync("/ai/sql/assist", TestServer.JsonContent(body));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>Whether PostgreSQL can plan <paramref name="sql"/>: EXPLAIN run by the test, not by the server (null when it can).</summary>
    public Task<string?> ExplainErrorAsync(string schema, string sql) => SqlExplain.ErrorAsync(database.DataSource, schema, sql);
}
