using System.Numerics;
using System.Runtime.InteropServices;

namespace Inference.Engine.Scheduling;

/// <summary>
/// The index of the first largest value, as llama.cpp's greedy sampler picks it (it keeps the first of equal logits:
/// a later one must be strictly greater), in two vectorised passes over the logits instead of llama.cpp's copy of the
/// whole vocabulary into candidates first.
/// </summary>
internal static class FirstMax
{
    /// <summary>
    /// The first index holding the largest value; -1 where the answer could differ from llama.cpp's loop: a NaN first
    /// value (llama.cpp then keeps index 0, since nothing compares greater than NaN) or no value equal to the maximum
    /// (a NaN the vector maximum let through). The caller then samples with llama.cpp's own chain.
    /// </summary>
    public static int Of(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty || float.IsNaN(values[0])) return -1;
        float max = float.NegativeInfinity;
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<float>.Count)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            var best = new Vector<float>(float.NegativeInfinity);
            foreach (var v in vectors) best = Vector.Max(best, v);
            for (int k = 0; k < Vector<float>.Count; k++) max = MaxOf(max, best[k]);
            i = vectors.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++) max = MaxOf(max, values[i]);
        if (float.IsNaN(max)) return -1;

        // The first value equal to the maximum (-0 and +0 are equal, as llama.cpp's comparison has them).
        i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<float>.Count)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            var wanted = new Vector<float>(max);
            int block = 0;
            while (block < vectors.Length && !Vector.EqualsAny(vectors[block], wanted)) block++;
            i = block * Vector<float>.Count;
        }
        for (; i < values.Length; i++)
            if (values[i] == max) return i;
        return -1;
    }

    private static float MaxOf(float a, float b) => b > a ? b : a;
}
