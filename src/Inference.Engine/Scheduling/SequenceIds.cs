namespace Inference.Engine.Scheduling;

/// <summary>
/// What each sequence id (one KV stream of ContextLength cells) holds: a running sequence, a finished
/// sequence's cells kept as a cached prefix, or nothing. Finished sequences stay in their own stream, so a
/// follow-up that continues one takes that stream over without copying cells; only the choice of a stream
/// for a sequence that continues none lives here.
/// </summary>
internal sealed class SequenceIds(int count)
{
    public enum State { Free, Running, Cached }

    private readonly State[] _states = new State[count];

    public int Count => count;

    public State this[int id]
    {
        get => _states[id];
        set => _states[id] = value;
    }

    /// <summary>
    /// The id for a new sequence that reuses no cells. llama.cpp puts only runs of consecutive running ids into
    /// one micro-batch (each one pass over the weights per step), so it takes the id that leaves the running ids
    /// in the fewest runs: next to running ones. Among those, a free id before a cached prefix, the least
    /// recently used prefix first, then the lowest id. -1 when every id runs.
    /// </summary>
    /// <param name="lastUsed">For a cached id, when its prefix was last used (higher is more recent).</param>
    public int Choose(Func<int, long> lastUsed)
    {
        int best = -1, bestAdjacent = -1;
        bool bestFree = false;
        long bestUsed = long.MaxValue;
        for (int id = 0; id < count; id++)
        {
            if (_states[id] == State.Running) continue;
            int adjacent = (id > 0 && _states[id - 1] == State.Running ? 1 : 0) +
                           (id + 1 < count && _states[id + 1] == State.Running ? 1 : 0);
            bool free = _states[id] == State.Free;
            long used = free ? long.MinValue : lastUsed(id);
            bool better = adjacent != bestAdjacent ? adjacent > bestAdjacent
                : free != bestFree ? free
                : used < bestUsed;
            if (!better) continue;
            (best, bestAdjacent, bestFree, bestUsed) = (id, adjacent, free, used);
        }
        return best;
    }
}
