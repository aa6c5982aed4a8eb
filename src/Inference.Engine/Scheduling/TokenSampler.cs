using System.Runtime.CompilerServices;
using Inference.Engine.Grammar.Completion;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>
/// One sequence's sampling. Without a grammar it is llama.cpp's chain as <see cref="SamplerFactory"/> builds it.
/// With one, the chain is split in three (penalties, grammar, the rest) so that the grammar checks only the
/// tokens that can be chosen: after the penalties, candidates are walked in descending logit order and checked
/// in small chunks until top_k of them are allowed (greedy: the first allowed one). That is exactly
/// grammar-then-top_k, as llama.cpp's server chain does it, without checking the whole vocabulary (32,000
/// tokens for a Llama 2 vocabulary) at every step. Tokens whose first byte the grammar cannot take next (told by
/// the managed follower, <see cref="FirstCharacters"/>) are skipped without asking llama.cpp: a necessary
/// condition, so the result is the same.
/// </summary>
internal sealed class TokenSampler : IDisposable
{
    private readonly SamplingSettings _settings;
    private readonly int _vocabSize;
    // Plain mode: the whole chain (null in split mode).
    private SafeLLamaSamplerChainHandle? _chain;
    // Split mode.
    private readonly SafeLLamaSamplerChainHandle? _penalties;
    private SafeLLamaSamplerChainHandle? _grammar;
    private readonly SafeLLamaSamplerChainHandle? _rest;
    private LLamaTokenData[] _all = [];

    /// <summary>Below this vocabulary size llama.cpp checks the whole vocabulary faster than candidates can be ordered here.</summary>
    internal const int SplitFromVocabulary = 4096;

    // Each token's first and second bytes (-1 for none), per model: what FirstCharacters is checked against.
    private static readonly ConditionalWeakTable<SafeLlamaModelHandle, Tuple<short[], short[]>> LeadingBytes = new();
    private readonly short[] _firstBytes = [];
    private readonly short[] _secondBytes = [];
    private int[] _passing = [];

    public TokenSampler(SamplingSettings settings, SafeLlamaModelHandle model)
        : this(settings, model.Vocab, model)
    {
    }

    public TokenSampler(SamplingSettings settings, SafeLlamaModelHandle.Vocabulary vocab, SafeLlamaModelHandle? model = null)
    {
        _settings = settings;
        _vocabSize = vocab.Count;
        // top_k off (or beyond the vocabulary) leaves every allowed token in play: nothing to save, the whole chain is used.
        bool bounded = settings.Temperature <= 0f || settings.TopK > 0 && settings.TopK < vocab.Count;
        if (settings.Grammar is null || !settings.CheckGrammarLazily || !bounded || vocab.Count < SplitFromVocabulary)
        {
            _chain = SamplerFactory.Create(settings, vocab);
            return;
        }
        try
        {
            _grammar = SamplerFactory.CreateGrammar(settings.Grammar, vocab);
            _penalties = SamplerFactory.CreatePenalties(settings);
            _rest = SamplerFactory.CreateRest(settings, vocab);
            if (model is not null) (_firstBytes, _secondBytes) = LeadingBytes.GetValue(model, LeadingBytesOf);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Whether the grammar is checked lazily (split chains) rather than as the whole chain's first stage.</summary>
    public bool IsSplit => _chain is null;

    // Plain mode with a grammar: whether it is still the chain's first stage.
    private bool _grammarInChain = true;

    public void Accept(LLamaToken token)
    {
        if (_chain is not null)
        {
            _chain.Accept(token);
            return;
        }
        _grammar?.Accept(token);
        _penalties?.Accept(token);
        _rest!.Accept(token);
    }

    /// <summary>Drops the grammar (a tool-call grammar whose output became free text); sampling goes on with the rest.</summary>
    public void ReleaseGrammar()
    {
        if (_chain is not null)
        {
            // The grammar is the chain's first stage (SamplerFactory).
            if (_grammarInChain && _settings.Grammar is not null) _chain.Remove(0);
            _grammarInChain = false;
            return;
        }
        _grammar?.Dispose();
        _grammar = null;
    }

    /// <param name="next">What the grammar allows next, from the managed follower; null = check every candidate.</param>
    public LLamaToken Sample(SafeLLamaContextHandle context, int logitsIndex, FirstCharacters? next = null)
    {
        if (_chain is not null) return _chain.Sample(context, logitsIndex);

        var logits = context.GetLogitsIth(logitsIndex);
        if (_all.Length != logits.Length) _all = new LLamaTokenData[logits.Length];
        for (int i = 0; i < logits.Length; i++) _all[i] = new LLamaTokenData((LLamaToken)i, logits[i], 0f);
        if (_penalties is not null) Apply(_penalties, _all, _all.Length);

        var candidates = _grammar is null ? _all : Allowed(_settings.Temperature <= 0f ? 1 : _settings.TopK, next);
        int n = _grammar is null ? _all.Length : candidates.Length;
        var token = Apply(_rest!, candidates, n);
        Accept(token);
        return token;
    }

    /// <summary>
    /// The first <paramref name="wanted"/> tokens the grammar allows, in descending logit order (ties by token id,
    /// the order in which greedy and top_k meet them), found by checking candidates in growing chunks.
    /// </summary>
    private LLamaTokenData[] Allowed(int wanted, FirstCharacters? next)
    {
        // The tokens that may pass at all; the rest are refused by the grammar whatever llama.cpp would say of their other characters.
        int count = _all.Length;
        if (next is not null && _firstBytes.Length == _all.Length)
        {
            if (_passing.Length != _all.Length) _passing = new int[_all.Length];
            count = 0;
            for (int i = 0; i < _all.Length; i++)
                if (next.MayStartWith(_firstBytes[i], _secondBytes[i])) _passing[count++] = i;
        }
        else
        {
            if (_passing.Length != _all.Length) _passing = new int[_all.Length];
            for (int i = 0; i < _all.Length; i++) _passing[i] = i;
        }

        var allowed = new List<LLamaTokenData>(wanted);
        var order = new CandidateOrder(_all, _passing, count);
        int chunk = Math.Max(wanted + 8, 16);
        var buffer = new LLamaTokenData[Math.Min(chunk, Math.Max(count, 1))];
        while (allowed.Count < wanted && !order.Done)
        {
            // Past a quarter of the candidates, one call for the rest is cheaper than more chunks.
            int left = count - order.Taken;
            int take = order.Taken > count / 4 ? left : Math.Min(chunk, left);
            if (buffer.Length < take) buffer = new LLamaTokenData[take];
            int got = order.Next(buffer.AsSpan(0, take));
            // The grammar sets the logit of every token it refuses to -inf, in place and in order.
            Apply(_grammar!, buffer, got, select: false);
            for (int i = 0; i < got && allowed.Count < wanted; i++)
                if (!float.IsNegativeInfinity(buffer[i].Logit)) allowed.Add(buffer[i]);
            chunk *= 4;
        }
        // A grammar allows at least end-of-generation or one more character (the checker refuses dead ends).
        return [.. allowed];
    }

    private static Tuple<short[], short[]> LeadingBytesOf(SafeLlamaModelHandle model)
    {
        int n = model.Vocab.Count;
        var first = new short[n];
        var second = new short[n];
        Span<byte> buffer = stackalloc byte[64];
        for (int i = 0; i < n; i++)
        {
            // As llama.cpp's grammar sees the token (its piece); a token with no text, or one too long for the buffer, is left to llama.cpp.
            int length = (int)model.TokenToSpan((LLamaToken)i, buffer);
            bool known = length is > 0 and <= 64;
            first[i] = known ? buffer[0] : (short)-1;
            second[i] = known && length > 1 ? buffer[1] : (short)-1;
        }
        return Tuple.Create(first, second);
    }

    /// <summary>Applies a chain to the first <paramref name="count"/> entries; returns the selected token when the chain selects one.</summary>
    private static LLamaToken Apply(SafeLLamaSamplerChainHandle chain, LLamaTokenData[] data, int count, bool select = true)
    {
        var array = new LLamaTokenDataArray(data.AsMemory(0, count), false);
        using var pin = LLamaTokenDataArrayNative.Create(array, out var native);
        chain.Apply(ref native);
        if (!select) return default;
        if (native.Selected < 0) throw new InvalidOperationException("the sampler chain selected no token");
        return native.Data[(int)native.Selected].ID;
    }

    public void Dispose()
    {
        _chain?.Dispose();
        _grammar?.Dispose();
        _penalties?.Dispose();
        _rest?.Dispose();
    }

    /// <summary>
    /// Hands out tokens in descending logit order (ties by id) without sorting the whole vocabulary: each call
    /// selects the next best ones with a bounded heap over those not handed out yet.
    /// </summary>
    private sealed class CandidateOrder(LLamaTokenData[] all, int[] subset, int count)
    {
        private float _lastLogit = float.PositiveInfinity;
        private int _lastId = -1;

        public int Taken { get; private set; }
        public bool Done => Taken >= count;

        /// <summary>Fills <paramref name="into"/> with the next best tokens of the subset; returns how many.</summary>
        public int Next(Span<LLamaTokenData> into)
        {
            int want = Math.Min(into.Length, count - Taken);
            if (want == 0) return 0;
            // A min-heap (worst on top) of the best `want` tokens after the last one handed out.
            var heap = new PriorityQueue<int, (float Logit, int Id)>(want, Worst.Instance);
            float worstLogit = float.NegativeInfinity;
            for (int k = 0; k < count; k++)
            {
                int i = subset[k];
                float logit = all[i].Logit;
                if (heap.Count == want && logit < worstLogit) continue;
                if (!After(logit, i)) continue;
                if (heap.Count < want) heap.Enqueue(i, (logit, i));
                else if (heap.TryPeek(out _, out var worst) && Better(logit, i, worst.Logit, worst.Id)) heap.EnqueueDequeue(i, (logit, i));
                if (heap.Count == want && heap.TryPeek(out _, out var w)) worstLogit = w.Logit;
            }
            int n = heap.Count;
            for (int k = n - 1; k >= 0; k--) into[k] = all[heap.Dequeue()];
            _lastLogit = into[n - 1].Logit;
            _lastId = (int)into[n - 1].ID;
            Taken += n;
            return n;
        }

        private bool After(float logit, int id) => Better(_lastLogit, _lastId, logit, id);

        /// <summary>Whether (a, idA) comes before (b, idB): higher logit first, then lower id.</summary>
        private static bool Better(float a, int idA, float b, int idB) => a > b || a == b && idA < idB;

        private sealed class Worst : IComparer<(float Logit, int Id)>
        {
            public static readonly Worst Instance = new();

            // The queue's minimum is the worst candidate, so it is the one replaced.
            public int Compare((float Logit, int Id) x, (float Logit, int Id) y) =>
                Better(x.Logit, x.Id, y.Logit, y.Id) ? 1 : Better(y.Logit, y.Id, x.Logit, x.Id) ? -1 : 0;
        }
    }
}
