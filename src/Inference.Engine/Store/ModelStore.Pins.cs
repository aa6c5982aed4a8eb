namespace Inference.Engine.Store;

public sealed partial class ModelStore
{
    // How many pending operations hold each blob (by hex digest); guarded by locking the dictionary.
    private readonly Dictionary<string, int> _pins = new(StringComparer.Ordinal);

    /// <summary>Starts tracking the blobs of one create or pull (see <see cref="PendingBlobs"/>).</summary>
    public PendingBlobs BeginPending() => new(this);

    internal void Pin(string hex)
    {
        lock (_pins) _pins[hex] = _pins.GetValueOrDefault(hex) + 1;
    }

    internal void Unpin(string hex)
    {
        lock (_pins)
        {
            if (_pins.TryGetValue(hex, out int n) && n > 1) _pins[hex] = n - 1;
            else _pins.Remove(hex);
        }
    }

    private int PinCount(string hex)
    {
        lock (_pins) return _pins.GetValueOrDefault(hex);
    }

    /// <summary>Deletes blobs a failed operation added, unless a manifest or another pending operation (beyond the caller's one pin) uses them.</summary>
    internal void DiscardAdded(IReadOnlyCollection<string> hexes)
    {
        if (hexes.Count == 0) return;
        _gate.Wait();
        try
        {
            var referenced = ReferencedDigests(out _);
            foreach (var hex in hexes)
            {
                if (!referenced.Contains(hex) && PinCount(hex) <= 1)
                    File.Delete(BlobPath(Digests.FromHex(hex)));
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
