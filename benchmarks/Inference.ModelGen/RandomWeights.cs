using System.Runtime.InteropServices;

namespace Inference.ModelGen;

/// <summary>
/// Fast, deterministic N(0, 0.02²) F16 values. Drawing ~1.2 billion Box-Muller samples would dominate
/// generation time, so 65,536 normal samples are drawn once and each weight picks one with 16 random
/// bits: the values are still normal-distributed (F16 has fewer distinct values than that anyway).
/// </summary>
public sealed class RandomWeights
{
    private const float Std = 0.02f;
    private readonly Half[] _table = new Half[65536];
    private ulong _state;

    public RandomWeights(int seed)
    {
        _state = SplitMix((ulong)(uint)seed ^ 0x9E3779B97F4A7C15UL);
        var rng = new Random(seed);
        for (var i = 0; i < _table.Length; i += 2)
        {
            // Box-Muller: two independent normals per pair of uniforms.
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            var m = Math.Sqrt(-2 * Math.Log(u1)) * Std;
            _table[i] = (Half)(m * Math.Cos(2 * Math.PI * u2));
            _table[i + 1] = (Half)(m * Math.Sin(2 * Math.PI * u2));
        }
    }

    /// <summary>Fills a chunk of F16 weight bytes (length must be even).</summary>
    public void FillF16(Span<byte> bytes)
    {
        var halves = MemoryMarshal.Cast<byte, Half>(bytes);
        var i = 0;
        while (i < halves.Length)
        {
            // xorshift64: one 64-bit draw yields four 16-bit table indices.
            var x = _state;
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            _state = x;
            for (var k = 0; k < 4 && i < halves.Length; k++, i++, x >>= 16)
                halves[i] = _table[(int)(x & 0xFFFF)];
        }
    }

    /// <summary>Norm weights are all 1.0, as in a freshly initialised RMSNorm.</summary>
    public static void FillOnesF32(Span<byte> bytes) => MemoryMarshal.Cast<byte, float>(bytes).Fill(1f);

    private static ulong SplitMix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (z ^ (z >> 31)) | 1; // xorshift state must be non-zero
    }
}
