namespace Inference.Engine.Store;

/// <summary>
/// The blobs one create or pull uses before its manifest is written. Each is pinned, so a delete
/// of another model that shared it does not remove it in the meantime; the ones this operation
/// added to the store are removed again by <see cref="Discard"/> when the operation fails (unless
/// a manifest or another pending operation uses them by then). Dispose after the manifest is
/// written, or after <see cref="Discard"/>.
/// </summary>
public sealed class PendingBlobs : IDisposable
{
    private readonly ModelStore _store;
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);
    private readonly HashSet<string> _added = new(StringComparer.Ordinal);

    internal PendingBlobs(ModelStore store) => _store = store;

    /// <summary>Pins a blob this operation will reference (one already in the store, or about to be).</summary>
    public void Hold(string digest)
    {
        string hex = Digests.GetHex(digest);
        lock (_held)
        {
            if (_held.Add(hex)) _store.Pin(hex);
        }
    }

    /// <summary>Records that this operation wrote the blob into the store (it is removed by <see cref="Discard"/>).</summary>
    internal void Added(string hex)
    {
        Hold(Digests.FromHex(hex));
        lock (_held) _added.Add(hex);
    }

    /// <summary>The blobs this operation wrote, as digests.</summary>
    public IReadOnlyList<string> AddedDigests
    {
        get
        {
            lock (_held) return _added.Select(Digests.FromHex).ToList();
        }
    }

    /// <summary>Removes the blobs this operation added that no manifest and no other operation uses.</summary>
    public void Discard()
    {
        string[] added;
        lock (_held) added = [.. _added];
        _store.DiscardAdded(added);
        lock (_held) _added.Clear();
    }

    public void Dispose()
    {
        lock (_held)
        {
            foreach (var hex in _held) _store.Unpin(hex);
            _held.Clear();
        }
    }
}
