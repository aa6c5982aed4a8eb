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
    /// The first index holding the largest value; -1 when any value is NaN (or there are none). llama.cpp's loop skips a
    /// NaN, unless it comes first, and a vector maximum can lose the lane's real maximum to one: the caller then samples
    /// with llama.cpp's own chain.
    /// </summary>
    public static int Of(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return -1;
        float max = float.NegativeInfinity;
        bool nan = false;
        int i = 0;
        bool vectorised = Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<float>.Count;
        if (vectorised)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            var best = new Vector<float>(float.NegativeInfinity);
            // A lane is NaN where it differs from itself.
            var unequal = Vector<int>.Zero;
            foreach (var v in vectors)
            {
                best = Vector.Max(best, v);
                unequal |= ~Vector.Equals(v, v);
            }
            nan = unequal != Vector<int>.Zero;
            for (int k = 0; k < Vector<float>.Count; k++) max = MathF.Max(max, best[k]);
            i = vectors.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++)
        {
            nan |= float.IsNaN(values[i]);
            if (values[i] > max) max = values[i];
        }
        if (nan) return -1;

        // The first value equal to the maximum (-0 and +0 are equal, as llama.cpp's comparison has them).
        i = 0;
        if (vectorised)
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
}
