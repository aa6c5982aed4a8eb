using Inference.Engine.Grammar.Completion;
using Inference.Engine.Scheduling;
using LLama.Native;

namespace Inference.Tests.Scheduling;

/// <summary>
/// The split sampler's candidate order, checked against a full sort: whatever the chunk sizes, the filter, ties and
/// patched logits, the tokens come out in descending logit order, ties by lower id, each exactly once.
/// </summary>
public sealed class CandidateOrderTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void Chunks_concatenate_to_the_fully_sorted_order(int seed, bool filter)
    {
        var random = new Random(seed);
        const int vocab = 5000;
        // Few distinct values, so that ties (ordered by id) are common; a few -inf as the grammar leaves them.
        var scores = new float[vocab];
        for (int i = 0; i < vocab; i++) scores[i] = random.Next(8) == 0 ? float.NegativeInfinity : random.Next(200) / 8f;
        var firstBytes = new short[vocab];
        var secondBytes = new short[vocab];
        for (int i = 0; i < vocab; i++)
        {
            firstBytes[i] = (short)(random.Next(10) == 0 ? -1 : random.Next(256));
            secondBytes[i] = (short)(random.Next(10) == 0 ? -1 : random.Next(256));
        }
        var first = new bool[257];
        var second = new bool[257];
        first[0] = second[0] = true;
        for (int b = 0; b < 256; b++)
        {
            first[b + 1] = b == ' ' || random.Next(3) == 0;
            second[b + 1] = random.Next(2) == 0;
        }
        bool Passes(int i) => !filter || first[firstBytes[i] + 1] && (firstBytes[i] != ' ' || second[secondBytes[i] + 1]);

        // Penalised tokens: patched after collecting, as TokenSampler does.
        var patched = (float[])scores.Clone();
        var classes = new ushort[vocab];
        for (int i = 0; i < vocab; i++) classes[i] = FirstCharacters.ClassOf(firstBytes[i], secondBytes[i]);
        var passByClass = new byte[FirstCharacters.Classes];
        for (int c = 0; c < passByClass.Length; c++) passByClass[c] = 1;
        // The table as FirstCharacters builds it, from the same answers as Passes.
        for (short b = 0; b < 256; b++)
        {
            if (b != ' ') passByClass[FirstCharacters.ClassOf(b, -1)] = first[b + 1] ? (byte)1 : (byte)0;
            else for (short s2 = -1; s2 < 256; s2++) passByClass[FirstCharacters.ClassOf(b, s2)] = first[b + 1] && second[s2 + 1] ? (byte)1 : (byte)0;
        }
        var order = new CandidateOrder();
        order.Collect(scores, classes, filter ? passByClass : null);
        foreach (int id in new[] { 0, 17, 4999, 2500, 123 })
        {
            patched[id] = scores[id] - 3f;
            order.Patch(id, patched[id]);
        }
        var expected = Enumerable.Range(0, vocab).Where(Passes)
            .OrderByDescending(i => patched[i]).ThenBy(i => i).ToArray();
        Assert.Equal(expected.Length, order.Count);
        Assert.True(!filter || expected.Length < vocab * 3 / 4, "the filter must drop tokens for this test to check it");

        var got = new List<int>();
        var buffer = new LLamaTokenData[vocab];
        foreach (int size in new[] { 1, 3, 40, 7, 200, 1000, vocab })
        {
            int n = order.Next(buffer.AsSpan(0, size));
            for (int k = 0; k < n; k++)
            {
                Assert.Equal(patched[(int)buffer[k].ID], buffer[k].Logit);
                got.Add((int)buffer[k].ID);
            }
            if (order.Done) break;
        }
        Assert.True(order.Done);
        Assert.Equal(expected, got);
        Assert.Equal(0, order.Next(buffer));
    }
}
