using System.Collections.Concurrent;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Keeps each schema read from <paramref name="inner"/> for a short time (Platform:Database:SchemaCacheTtl),
/// so a burst of requests for a tenant reads the catalog once, while a migration shows within the TTL.
/// Concurrent requests for the same schema share one read; failures are not kept; an unknown schema
/// (null) is kept like any answer, and the cache never holds more than <see cref="MaxEntries"/> schemas.
/// </summary>
public sealed class CachedSchemaSource(ISchemaSource inner, TimeSpan ttl, TimeProvider clock) : ISchemaSource
{
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    // Lazy: of two requests racing to refresh an entry, only the one whose entry is kept reads the catalog.
    private sealed record Entry(Lazy<Task<TenantSchema?>> Schema, DateTimeOffset Expires)
    {
        public bool Failed => Schema.IsValueCreated && (Schema.Value.IsFaulted || Schema.Value.IsCanceled);
    }

    public async Task<TenantSchema?> GetAsync(string schema, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (!_entries.TryGetValue(schema, out var entry) || entry.Expires <= now || entry.Failed)
        {
            if (_entries.Count >= MaxEntries) Prune(now);
            // The read is shared, so one caller's cancellation must not cancel it for the others;
            // the statement timeout bounds it.
            var fresh = new Entry(new Lazy<Task<TenantSchema?>>(() => inner.GetAsync(schema, CancellationToken.None)), now + ttl);
            entry = _entries.AddOrUpdate(schema, fresh, (_, old) => old == entry || old.Expires <= now || old.Failed ? fresh : old);
        }
        try
        {
            return await entry.Schema.Value.WaitAsync(ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(schema, entry));
            throw;
        }
    }

    /// <summary>Forgets a schema, so that the next request reads it again (after a migration, say).</summary>
    public void Invalidate(string schema) => _entries.TryRemove(schema, out _);

    private void Prune(DateTimeOffset now)
    {
        foreach (var (name, entry) in _entries)
            if (entry.Expires <= now) _entries.TryRemove(new KeyValuePair<string, Entry>(name, entry));
        // Still full of live entries (a flood of distinct names): start over rather than grow.
        if (_entries.Count >= MaxEntries) _entries.Clear();
    }
}
