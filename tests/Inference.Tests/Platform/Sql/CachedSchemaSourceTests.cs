using Inference.Server.Platform.Sql;

namespace Inference.Tests.Platform.Sql;

public sealed class CachedSchemaSourceTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Counts reads; each read returns a schema with one table named after the read's number.</summary>
    private sealed class CountingSource : ISchemaSource
    {
        public int Reads;
        public Func<string, Task>? Before;

        public async Task<TenantSchema?> GetAsync(string schema, CancellationToken ct)
        {
            int read = Interlocked.Increment(ref Reads);
            if (Before is not null) await Before(schema);
            return schema == "missing" ? null : new TenantSchema(schema, [new TableInfo("read" + read, [], [], [], [], 0)]);
        }
    }

    [Fact]
    public async Task A_schema_is_read_once_per_ttl()
    {
        var clock = new ManualClock();
        var inner = new CountingSource();
        var cache = new CachedSchemaSource(inner, TimeSpan.FromSeconds(60), clock);

        Assert.Equal("read1", (await cache.GetAsync("tenant_a", default))!.Tables[0].Name);
        clock.Now += TimeSpan.FromSeconds(59);
        Assert.Equal("read1", (await cache.GetAsync("tenant_a", default))!.Tables[0].Name);
        Assert.Equal(1, inner.Reads);

        clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal("read2", (await cache.GetAsync("tenant_a", default))!.Tables[0].Name);
        Assert.Equal("read3", (await cache.GetAsync("tenant_b", default))!.Tables[0].Name);

        cache.Invalidate("tenant_a");
        Assert.Equal("read4", (await cache.GetAsync("tenant_a", default))!.Tables[0].Name);
    }

    [Fact]
    public async Task Unknown_schemas_are_kept_failures_are_not()
    {
        var inner = new CountingSource();
        var cache = new CachedSchemaSource(inner, TimeSpan.FromMinutes(1), new ManualClock());
        Assert.Null(await cache.GetAsync("missing", default));
        Assert.Null(await cache.GetAsync("missing", default));
        Assert.Equal(1, inner.Reads);

        inner.Before = _ => throw new TimeoutException("catalog too slow");
        await Assert.ThrowsAsync<TimeoutException>(() => cache.GetAsync("tenant_x", default));
        inner.Before = null;
        Assert.NotNull(await cache.GetAsync("tenant_x", default));
        Assert.Equal(3, inner.Reads);
    }

    [Fact]
    public async Task Concurrent_requests_share_one_read_and_one_caller_cancelling_does_not_cancel_it()
    {
        var release = new TaskCompletionSource();
        var inner = new CountingSource { Before = _ => release.Task };
        var cache = new CachedSchemaSource(inner, TimeSpan.FromMinutes(1), new ManualClock());

        using var cancelled = new CancellationTokenSource();
        var first = cache.GetAsync("tenant_a", cancelled.Token);
        var second = cache.GetAsync("tenant_a", default);
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        release.SetResult();
        Assert.Equal("read1", (await second)!.Tables[0].Name);
        Assert.Equal(1, inner.Reads);
    }

    [Collection("postgres")]
    public sealed class WithTheDatabase(TestDatabase database)
    {
        [Fact]
        public async Task A_new_table_shows_after_the_ttl()
        {
            var clock = new ManualClock();
            var options = database.Options();
            var cache = new CachedSchemaSource(new SchemaIntrospector(database.DataSource, new TenantSchemaName(), options), options.SchemaCacheTtl, clock);

            var before = (await cache.GetAsync(TestDatabase.Globex, default))!;
            await database.ExecuteAsync("CREATE TABLE tenant_globex.shipments (id int PRIMARY KEY)");
            try
            {
                Assert.Same(before, await cache.GetAsync(TestDatabase.Globex, default));
                clock.Now += TimeSpan.FromSeconds(60);
                var after = (await cache.GetAsync(TestDatabase.Globex, default))!;
                Assert.NotNull(after.Table("shipments"));
                Assert.Null(before.Table("shipments"));
            }
            finally
            {
                await database.ExecuteAsync("DROP TABLE tenant_globex.shipments");
            }
        }
    }
}
