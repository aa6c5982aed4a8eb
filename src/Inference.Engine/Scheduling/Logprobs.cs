using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// Log-probabilities from a sequence's raw logits (log-softmax over the whole vocabulary), read
/// right after sampling and before the next decode overwrites them.
/// </summary>
internal static class Logprobs
{
    public static TokenLogprob Of(SafeLLamaContextHandle context, int logitsIndex, LLamaToken chosen, int top)
    {
        var logits = context.GetLogitsIth(logitsIndex);
        float max = float.NegativeInfinity;
        foreach (var l in logits) if (l > max) max = l;
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        float logSumExp = max + (float)Math.Log(sum);

        // The `top` largest logits by repeated selection: top is small (<= 20) next to the vocabulary.
        var best = new List<int>(top);
        for (int k = 0; k < top; k++)
        {
            int arg = -1;
            for (int i = 0; i < logits.Length; i++)
                if ((arg < 0 || logits[i] > logits[arg]) && !best.Contains(i)) arg = i;
            if (arg < 0) break;
            best.Add(arg);
        }

        var (text, bytes) = Piece(context, chosen);
        var alternatives = new List<TokenAlternative>(best.Count);
        foreach (int i in best)
        {
            var (t, b) = Piece(context, (LLamaToken)i);
            alternatives.Add(new TokenAlternative(t, logits[i] - logSumExp, b));
        }
        return new TokenLogprob(text, logits[(int)chosen] - logSumExp, bytes, alternatives);
    }

    private static (string Text, byte[] Bytes) Piece(SafeLLamaContextHandle context, LLamaToken token)
    {
        Span<byte> buffer = stackalloc byte[64];
        int n = (int)context.TokenToSpan(token, buffer);
        var bytes = buffer[..Math.Min(n, buffer.Length)].ToArray();
        return (System.Text.Encoding.UTF8.GetString(bytes), bytes);
    }
}
