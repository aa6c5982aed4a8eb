using System.Text.Json.Nodes;
using Inference.Tests.Platform.Sql;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.Replicas;

/// <summary>
/// Two replicas on one Redis and the test PostgreSQL, with the response cache on: a SQL assist answer
/// made on A is served by B without running the model; a migration of the tenant's schema, another
/// tenant, and execute requests are never served from the cache. Each run uses schemas of its own
/// (dropped at the end), so the shared tenants of the other tests are never altered.
/// </summary>
[Collection("postgres")]
public sealed class ReplicaSqlAssistCacheTests(TestDatabase database) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private string TenantA => "tenant_cachea_" + _suffix;
    private string TenantB => "tenant_cacheb_" + _suffix;

    public async Task InitializeAsync()
    {
        foreach (var schema in new[] { TenantA, TenantB })
        {
            await using var create = database.DataSource.CreateCommand($"""
                CREATE SCHEMA {schema};
                CREATE TABLE {schema}.orders (id integer PRIMARY KEY, customer text NOT NULL, total numeric(10,2) NOT NULL);
                INSERT INTO {schema}.orders VALUES (1, 'ann', 10.50), (2, 'bo', 7.25);
                """);
            await create.ExecuteNonQueryAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await using var drop = database.DataSource.CreateCommand($"DROP SCHEMA IF EXISTS {TenantA} CASCADE; DROP SCHEMA IF EXISTS {TenantB} CASCADE;");
        await drop.ExecuteNonQueryAsync();
    }

    private static object Request(string schema, bool execute = false) =>
        new { query = "total of orders per customer", schema, action = "generate", model = "stories", execute };

    private static async Task<(int Status, string Body)> PostAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsync("/ai/sql/assist", TestServer.JsonContent(body));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<double> Metric(ServerProcess server, string name, params string[] labels)
    {
        var text = await server.Client.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l.Contains));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<double> Lookups(ServerProcess server, string result) =>
        Metric(server, "inference_response_cache_lookups_total", "route=\"sql\"", $"result=\"{result}\"");

    [Fact]
    public async Task An_answer_from_A_is_served_by_B_until_the_schema_changes_and_never_to_another_tenant_or_with_execute()
    {
        using var modelsA = new TempDirectory();
        using var modelsB = new TempDirectory();
        string[] settings =
        [
            "--Platform:ResponseCache:Enabled=true",
            .. database.ServerSettings,
            // Every request reads the catalog, so the migration below is seen at once.
            "--Platform:Database:SchemaCacheTtl=00:00:00",
            "--Platform:RateLimits:SqlAssistPerHour=0",
        ];
        await using var a = await Replica.StartAsync(modelsA, TestRedis.Shared, settings);
        await using var b = await Replica.StartAsync(modelsB, TestRedis.Shared, settings);
        var token = TestTokens.For(Replica.NewUser("ida"), TenantA, TenantB);
        using var toA = Replica.Client(a, token);
        using var toB = Replica.Client(b, token);

        var (status, answer) = await PostAsync(toA, Request(TenantA));
        Assert.Equal(200, status);
        Assert.StartsWith("SELECT ", JsonNode.Parse(answer)!["sql"]!.GetValue<string>());
        Assert.Equal(1, await Lookups(a, "miss"));
        Assert.Equal(0, await Lookups(a, "hit"));

        // B answers from the cache: the same bytes, a hit, and no token generated.
        var (statusB, answerB) = await PostAsync(toB, Request(TenantA));
        Assert.Equal(200, statusB);
        Assert.Equal(answer, answerB);
        Assert.Equal(1, await Lookups(b, "hit"));
        Assert.Equal(0, await Lookups(b, "miss"));
        Assert.Equal(0, await Metric(b, "inference_generated_tokens_total", "stories"));

        // The same question on another tenant's schema (same tables, same user) is a miss.
        Assert.Equal(200, (await PostAsync(toB, Request(TenantB))).Status);
        Assert.Equal(1, await Lookups(b, "miss"));
        Assert.Equal(1, await Lookups(b, "hit"));
        double generated = await Metric(b, "inference_generated_tokens_total", "stories");
        Assert.True(generated > 0);

        // execute is never looked up nor stored: twice, both generate, the lookup counters do not move.
        for (int i = 0; i < 2; i++)
        {
            var (statusX, executed) = await PostAsync(toB, Request(TenantA, execute: true));
            Assert.Equal(200, statusX);
            Assert.NotNull(JsonNode.Parse(executed)!["result"]);
            double now = await Metric(b, "inference_generated_tokens_total", "stories");
            Assert.True(now > generated);
            generated = now;
        }
        Assert.Equal(1, await Lookups(b, "miss"));
        Assert.Equal(1, await Lookups(b, "hit"));

        // A migration of the tenant's schema changes its fingerprint: the next request is a miss that generates.
        await using (var alter = database.DataSource.CreateCommand($"ALTER TABLE {TenantA}.orders ADD COLUMN note text"))
            await alter.ExecuteNonQueryAsync();
        Assert.Equal(200, (await PostAsync(toB, Request(TenantA))).Status);
        Assert.Equal(2, await Lookups(b, "miss"));
        Assert.Equal(1, await Lookups(b, "hit"));
        Assert.True(await Metric(b, "inference_generated_tokens_total", "stories") > generated);

        // ...and that new answer is then the one A serves from the cache.
        Assert.Equal(200, (await PostAsync(toA, Request(TenantA))).Status);
        Assert.Equal(1, await Lookups(a, "hit"));
    }
}
