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
    // Split mode: this step's logits with the penalties applied (only recent tokens are penalised).
    private float[] _scores = [];
    // The last RepeatLastN accepted tokens: the only ones llama.cpp's penalties change.
    private readonly Queue<LLamaToken> _recent = new();

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
        _rest!.Accept(token);
        if (_penalties is null) return;
        _penalties.Accept(token);
        if (_settings.RepeatLastN <= 0) return;
        _recent.Enqueue(token);
        if (_recent.Count > _settings.RepeatLastN) _recent.Dequeue();
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
    /// <param name="allowed">Per token, whether it may be taken at all (<see cref="TokenTextGuard"/>); null = every token.</param>
    public LLamaToken Sample(SafeLLamaContextHandle context, int logitsIndex, FirstCharacters? next = null, bool[]? allowed = null)
    {
        if (_chain is not null) return allowed is null ? _chain.Sample(context, logitsIndex) : SampleAllowed(context, logitsIndex, allowed);

        var logits = context.GetLogitsIth(logitsIndex);
        LLamaToken token;
        if (_grammar is null)
        {
            // Released grammar: the rest of the chain over the whole vocabulary, as the plain chain would.
            if (_all.Length != logits.Length) _all = new LLamaTokenData[logits.Length];
            for (int i = 0; i < logits.Length; i++) _all[i] = new LLamaTokenData((LLamaToken)i, logits[i], 0f);
            if (_penalties is not null) Apply(_penalties, _all, _all.Length);
            token = Apply(_rest!, _all, _all.Length);
        }
        else
        {
            if (_scores.Length != logits.Length) _scores = new float[logits.Length];
            logits.CopyTo(_scores);
            Penalise();
            var candidates = Allowed(_settings.Temperature <= 0f ? 1 : _settings.TopK, next, allowed);
            token = Apply(_rest!, candidates, candidates.Length);
        }
        Accept(token);
        return token;
    }

    /// <summary>
    /// The whole chain over the vocabulary, as llama_sampler_sample runs it, with the tokens not allowed set to -inf
    /// first (they can then not be chosen, whatever the grammar says of them).
    /// </summary>
    private LLamaToken SampleAllowed(SafeLLamaContextHandle context, int logitsIndex, bool[] allowed)
    {
        var logits = context.GetLogitsIth(logitsIndex);
        if (_all.Length != logits.Length) _all = new LLamaTokenData[logits.Length];
        for (int i = 0; i < logits.Length; i++)
            _all[i] = new LLamaTokenData((LLamaToken)i, allowed[i] ? logits[i] : float.NegativeInfinity, 0f);
        var token = Apply(_chain!, _all, _all.Length);
        _chain!.Accept(token);
        return token;
    }

    /// <summary>
    /// llama.cpp's penalties change only the logits of tokens in the recent window, each by itself: applied by its
    /// own sampler to just those tokens, they give the values it would give them in the whole vocabulary.
    /// </summary>
    private void Penalise()
    {
        if (_penalties is null || _recent.Count == 0) return;
        var distinct = new HashSet<int>();
        foreach (var t in _recent) distinct.Add((int)t);
        var few = new LLamaTokenData[distinct.Count];
        int k = 0;
        foreach (int id in distinct) few[k++] = new LLamaTokenData((LLamaToken)id, _scores[id], 0f);
        Apply(_penalties, few, few.Length, select: false);
        foreach (var t in few) _scores[(int)t.ID] = t.Logit;
    }

    /// <summary>
    /// The first <paramref name="wanted"/> tokens the grammar allows, in descending logit order (ties by token id,
    /// the order in which greedy and top_k meet them), found by checking candidates in growing chunks.
    /// </summary>
    private LLamaTokenData[] Allowed(int wanted, FirstCharacters? next, bool[]? guard)
    {
        int vocab = _scores.Length;
        if (_passing.Length != vocab) _passing = new int[vocab];
        int chunk = Math.Max(wanted + 8, 16);
        // One pass: the tokens that may pass at all (the rest are refused by the grammar whatever llama.cpp would
        // say of their other characters), and the best `chunk` of them.
        var order = new CandidateOrder(_scores, _passing);
        var buffer = new LLamaTokenData[chunk];
        int got;
        if (next is not null && _firstBytes.Length == vocab)
        {
            var (first, second) = next.Tables();
            got = order.First(buffer, i => (guard is null || guard[i]) && first[_firstBytes[i] + 1] && (_firstBytes[i] != ' ' || second[_secondBytes[i] + 1]));
        }
        else got = order.First(buffer, guard is null ? null : i => guard[i]);

        var allowed = new List<LLamaTokenData>(wanted);
        while (true)
        {
            // The grammar sets the logit of every token it refuses to -inf, in place and in order.
            Apply(_grammar!, buffer, got, select: false);
            for (int i = 0; i < got && allowed.Count < wanted; i++)
                if (!float.IsNegativeInfinity(buffer[i].Logit)) allowed.Add(buffer[i]);
            if (allowed.Count >= wanted || order.Done) break;
            chunk *= 4;
            // Past a quarter of the candidates, one call for the rest is cheaper than more chunks.
            int left = order.Count - order.Taken;
            int take = order.Taken > order.Count / 4 ? left : Math.Min(chunk, left);
            if (buffer.Length < take) buffer = new LLamaTokenData[take];
            got = order.Next(buffer.AsSpan(0, take));
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
    private sealed class CandidateOrder(float[] scores, int[] subset)
    {
        private float _lastLogit = float.PositiveInfinity;
        private int _lastId = -1;

        public int Count { get; private set; }
        public int Taken { get; private set; }
        public bool Done => Taken >= Count;

        /// <summary>Collects the tokens that pass <paramref name="filter"/> (all when null) and hands out the best of them.</summary>
        public int First(Span<LLamaTokenData> into, Func<int, bool>? filter)
        {
            int want = into.Length;
            var heap = new PriorityQueue<int, (float Logit, int Id)>(want, Worst.Instance);
            float worstLogit = float.NegativeInfinity;
            int count = 0;
            for (int i = 0; i < scores.Length; i++)
            {
                if (filter is not null && !filter(i)) continue;
                subset[count++] = i;
                float logit = scores[i];
                if (heap.Count == want)
                {
                    if (logit < worstLogit) continue;
                    heap.TryPeek(out _, out var worst);
                    if (!Better(logit, i, worst.Logit, worst.Id)) continue;
                    heap.EnqueueDequeue(i, (logit, i));
                    heap.TryPeek(out _, out worst);
                    worstLogit = worst.Logit;
                }
                else
                {
                    heap.Enqueue(i, (logit, i));
                    if (heap.Count == want && heap.TryPeek(out _, out var w)) worstLogit = w.Logit;
                }
            }
            Count = count;
            return Drain(heap, into);
        }

        /// <summary>Fills <paramref name="into"/> with the next best tokens of the subset; returns how many.</summary>
        public int Next(Span<LLamaTokenData> into)
        {
            int want = Math.Min(into.Length, Count - Taken);
            if (want == 0) return 0;
            // A min-heap (worst on top) of the best `want` tokens after the last one handed out.
            var heap = new PriorityQueue<int, (float Logit, int Id)>(want, Worst.Instance);
            float worstLogit = float.NegativeInfinity;
            for (int k = 0; k < Count; k++)
            {
                int i = subset[k];
                float logit = scores[i];
                if (heap.Count == want && logit < worstLogit) continue;
                if (!After(logit, i)) continue;
                if (heap.Count < want) heap.Enqueue(i, (logit, i));
                else if (heap.TryPeek(out _, out var worst) && Better(logit, i, worst.Logit, worst.Id)) heap.EnqueueDequeue(i, (logit, i));
                if (heap.Count == want && heap.TryPeek(out _, out var w)) worstLogit = w.Logit;
            }
            return Drain(heap, into);
        }

        private int Drain(PriorityQueue<int, (float Logit, int Id)> heap, Span<LLamaTokenData> into)
        {
            int n = heap.Count;
            if (n == 0) return 0;
            for (int k = n - 1; k >= 0; k--)
            {
                int id = heap.Dequeue();
                into[k] = new LLamaTokenData((LLamaToken)id, scores[id], 0f);
            }
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
