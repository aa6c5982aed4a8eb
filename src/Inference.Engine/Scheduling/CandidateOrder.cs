using System.Numerics;
using Inference.Engine.Grammar.Completion;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// One step's candidates in descending logit order (ties by lower id, the order greedy and llama.cpp's top_k meet
/// them), handed out a chunk at a time without sorting the vocabulary. <see cref="Collect"/> copies the tokens
/// that may pass at all into contiguous arrays (one pass, no delegate: the first-character filter is two table
/// reads); each <see cref="Next"/> selects the best tokens after the last one handed out with a bounded min-heap
/// over those arrays, where almost every token is rejected by one comparison with the heap's worst. The arrays are
/// reused from step to step: nothing is allocated per step once they have grown to the vocabulary.
/// </summary>
internal sealed class CandidateOrder
{
    private int[] _ids = [];
    private float[] _logits = [];
    // The heap: a min-heap (the worst candidate at the root) of the best tokens seen so far in a Next pass.
    private int[] _heapIds = [];
    private float[] _heapLogits = [];
    private float _lastLogit;
    private int _lastId;

    public int Count { get; private set; }
    public int Taken { get; private set; }
    public bool Done => Taken >= Count;

    /// <summary>
    /// Starts a step: keeps the tokens whose class (<see cref="FirstCharacters.ClassOf"/>) the table passes, or
    /// every token when <paramref name="passByClass"/> is null.
    /// </summary>
    public void Collect(ReadOnlySpan<float> scores, ushort[] classes, byte[]? passByClass, bool[]? guard = null)
    {
        int n = scores.Length;
        if (_ids.Length < n)
        {
            _ids = new int[n];
            _logits = new float[n];
        }
        var ids = _ids;
        var logits = _logits;
        int count = 0;
        bool byClass = passByClass is not null && classes.Length == n;
        if (!byClass && guard is null)
        {
            for (int i = 0; i < n; i++) ids[i] = i;
            scores.CopyTo(logits);
            count = n;
        }
        else
        {
            // Every token is written and the count moves on only for those that pass (count <= i, so the write
            // stays in bounds): no branch on the filter, whose answers follow no pattern a branch predictor could learn.
            // One loop per filter combination, so the per-token work has no test that is the same for every token.
            if (guard is null)
            {
                for (int i = 0; i < n; i++)
                {
                    ids[count] = i;
                    logits[count] = scores[i];
                    count += passByClass![classes[i]];
                }
            }
            else if (byClass)
            {
                for (int i = 0; i < n; i++)
                {
                    ids[count] = i;
                    logits[count] = scores[i];
                    count += passByClass![classes[i]] & (guard[i] ? 1 : 0);
                }
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    ids[count] = i;
                    logits[count] = scores[i];
                    count += guard[i] ? 1 : 0;
                }
            }
        }
        Count = count;
        Taken = 0;
        _lastLogit = float.PositiveInfinity;
        _lastId = -1;
    }

    /// <summary>
    /// Replaces the logit of token <paramref name="id"/> if it was collected (the ids are in ascending order): the
    /// penalties change only the few recent tokens, so they are patched here instead of copying every logit.
    /// </summary>
    public void Patch(int id, float logit)
    {
        int k = Array.BinarySearch(_ids, 0, Count, id);
        if (k >= 0) _logits[k] = logit;
    }

    /// <summary>Fills <paramref name="into"/> with the next best tokens, best first; returns how many.</summary>
    public int Next(Span<LLamaTokenData> into)
    {
        int want = Math.Min(into.Length, Count - Taken);
        if (want <= 0) return 0;
        if (_heapIds.Length < want)
        {
            _heapIds = new int[Math.Max(want, 64)];
            _heapLogits = new float[_heapIds.Length];
        }
        var ids = _ids;
        var logits = _logits;
        var heapIds = _heapIds;
        var heapLogits = _heapLogits;
        float lastLogit = _lastLogit;
        int lastId = _lastId;
        int size = 0;
        // Until the heap is full every token after the last one handed out goes in; then only one better than its root.
        float worst = float.NegativeInfinity;
        int count = Count;
        int width = Vector<float>.Count;
        for (int k = 0; k < count;)
        {
            // Once the heap is full, a block of logits all below its worst is skipped with one vector comparison
            // (NaN compares false both ways, and is never selected either way).
            if (size == want && k + width <= count && !Vector.GreaterThanOrEqualAny(new Vector<float>(logits, k), new Vector<float>(worst)))
            {
                k += width;
                continue;
            }
            for (int end = Math.Min(k + width, count); k < end; k++)
            {
                float logit = logits[k];
                if (logit < worst) continue;
                int id = ids[k];
                // Already handed out: before (lastLogit, lastId) in the order.
                if (!Better(lastLogit, lastId, logit, id)) continue;
                if (size < want)
                {
                    SiftUp(heapIds, heapLogits, size++, id, logit);
                    if (size == want) worst = heapLogits[0];
                }
                else if (Better(logit, id, heapLogits[0], heapIds[0]))
                {
                    SiftDown(heapIds, heapLogits, size, id, logit);
                    worst = heapLogits[0];
                }
            }
        }
        // Pop the worst first, so the best ends up at the front.
        for (int k = size - 1; k >= 0; k--)
        {
            into[k] = new LLamaTokenData((LLamaToken)heapIds[0], heapLogits[0], 0f);
            int lastIndex = k;
            if (lastIndex > 0) SiftDown(heapIds, heapLogits, lastIndex, heapIds[lastIndex], heapLogits[lastIndex]);
        }
        _lastLogit = into[size - 1].Logit;
        _lastId = (int)into[size - 1].ID;
        Taken += size;
        return size;
    }

    /// <summary>Whether (a, idA) comes before (b, idB): higher logit first, then lower id.</summary>
    private static bool Better(float a, int idA, float b, int idB) => a > b || a == b && idA < idB;

    // Min-heap by the candidate order: the root is the candidate that comes last.
    private static void SiftUp(int[] ids, float[] logits, int index, int id, float logit)
    {
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            if (!Better(logits[parent], ids[parent], logit, id)) break;
            ids[index] = ids[parent];
            logits[index] = logits[parent];
            index = parent;
        }
        ids[index] = id;
        logits[index] = logit;
    }

    /// <summary>Puts (id, logit) at the root of a heap of <paramref name="size"/> entries and sifts it down.</summary>
    private static void SiftDown(int[] ids, float[] logits, int size, int id, float logit)
    {
        int index = 0;
        while (true)
        {
            int child = 2 * index + 1;
            if (child >= size) break;
            // The child that comes later in the order (the smaller one).
            if (child + 1 < size && Better(logits[child], ids[child], logits[child + 1], ids[child + 1])) child++;
            if (!Better(logit, id, logits[child], ids[child])) break;
            ids[index] = ids[child];
            logits[index] = logits[child];
            index = child;
        }
        ids[index] = id;
        logits[index] = logit;
    }
}
