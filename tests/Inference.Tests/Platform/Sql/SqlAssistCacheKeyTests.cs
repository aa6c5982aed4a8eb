using Inference.Server.Platform;
using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

/// <summary>What makes a cached SQL assist answer a miss: the schema fingerprint, the request, execute; and what counts as deterministic.</summary>
public sealed class SqlAssistCacheKeyTests
{
    private static TenantSchema Schema(string name = "tenant_acme", long rows = 100, bool note = false, bool index = false) => new(name,
    [
        new TableInfo("orders",
            [new ColumnInfo("id", "integer", false), new ColumnInfo("total", "numeric(10,2)", false), .. note ? new[] { new ColumnInfo("note", "text", true) } : []],
            ["id"], [], index ? [new IndexInfo("orders_total_idx", ["total"], false)] : [], rows),
        new TableInfo("users", [new ColumnInfo("id", "integer", false)], ["id"], [], [], 5),
    ]);

    private static readonly PlatformUser Ida = new("ida", new HashSet<string> { "tenant_acme", "tenant_globex" });
    private static SqlAssistInput Input(string query = "total per user", bool execute = false) => new(SqlAssistAction.Generate, query, null, execute);

    [Fact]
    public void The_fingerprint_is_stable_for_the_same_catalog_and_changes_with_any_part_the_prompt_reads()
    {
        var fingerprint = SqlAssistCacheKey.SchemaFingerprint(Schema());
        Assert.Equal(64, fingerprint.Length);
        Assert.Equal(fingerprint, SqlAssistCacheKey.SchemaFingerprint(Schema()));
        Assert.NotEqual(fingerprint, SqlAssistCacheKey.SchemaFingerprint(Schema(note: true)));
        Assert.NotEqual(fingerprint, SqlAssistCacheKey.SchemaFingerprint(Schema(index: true)));
        Assert.NotEqual(fingerprint, SqlAssistCacheKey.SchemaFingerprint(Schema(rows: 20_000)));
        Assert.NotEqual(fingerprint, SqlAssistCacheKey.SchemaFingerprint(Schema(name: "tenant_globex")));
    }

    [Fact]
    public void Keys_differ_by_tenant_request_model_and_validation_and_execute_has_none()
    {
        var key = SqlAssistCacheKey.For(Ida, "sha256:m", Input(), Schema(), validated: true);
        Assert.NotNull(key);
        Assert.StartsWith("inference:cache:sql:", key);
        Assert.Equal(key, SqlAssistCacheKey.For(Ida, "sha256:m", Input(), Schema(), validated: true));
        Assert.NotEqual(key, SqlAssistCacheKey.For(Ida, "sha256:m", Input(), Schema(name: "tenant_globex"), validated: true));
        Assert.NotEqual(key, SqlAssistCacheKey.For(Ida, "sha256:m", Input("total per day"), Schema(), validated: true));
        Assert.NotEqual(key, SqlAssistCacheKey.For(Ida, "sha256:other", Input(), Schema(), validated: true));
        Assert.NotEqual(key, SqlAssistCacheKey.For(Ida, "sha256:m", Input(), Schema(), validated: false));
        Assert.NotEqual(key, SqlAssistCacheKey.For(new PlatformUser("jo", new HashSet<string> { "tenant_acme", "tenant_globex" }), "sha256:m", Input(), Schema(), validated: true));
        Assert.Null(SqlAssistCacheKey.For(Ida, "sha256:m", Input(execute: true), Schema(), validated: true));
    }

    [Theory]
    [InlineData(0f, null, true)]
    [InlineData(0f, 7u, true)]
    [InlineData(0.6f, 7u, true)]
    [InlineData(0.6f, null, false)]
    public void Deterministic_means_temperature_zero_or_a_fixed_seed(float temperature, uint? seed, bool expected) =>
        Assert.Equal(expected, PlatformResponseCache.IsDeterministic(temperature, seed));
}
