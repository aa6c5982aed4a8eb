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
    // Plain greedy mode without a grammar: the token is picked here (PickGreedy), the chain only when that cannot be sure.
    private readonly bool _greedyHere;
    // Split mode, and plain greedy mode: the penalties alone (null when the settings turn them off).
    private readonly SafeLLamaSamplerChainHandle? _penalties;
    // Split mode.
    private SafeLLamaSamplerChainHandle? _grammar;
    private readonly SafeLLamaSamplerChainHandle? _rest;
    private LLamaTokenData[] _all = [];
    // Split mode, reused from step to step: the candidates in order, the chunk the grammar checks, the allowed ones,
    // the penalised recent tokens, and the share of checked candidates the grammar allowed last time.
    private readonly CandidateOrder _order = new();
    private LLamaTokenData[] _buffer = [];
    private LLamaTokenData[] _allowed = [];
    private LLamaTokenData[] _few = [];
    private readonly HashSet<int> _distinct = [];
    private float[] _saved = [];
    private double _passRate = 0.5;
    // The last RepeatLastN accepted tokens: the only ones llama.cpp's penalties change.
    private readonly Queue<LLamaToken> _recent = new();

    /// <summary>Below this vocabulary size llama.cpp checks the whole vocabulary faster than candidates can be ordered here.</summary>
    internal const int SplitFromVocabulary = 4096;

    // Each token's class by its first bytes (FirstCharacters.ClassOf), per model: what FirstCharacters is checked against.
    private static readonly ConditionalWeakTable<SafeLlamaModelHandle, ushort[]> TokenClasses = new();
    private readonly ushort[] _classes = [];

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
            if (settings.Grammar is null && settings.Temperature <= 0f && settings.PickGreedyInManagedCode)
            {
                _greedyHere = true;
                _penalties = SamplerFactory.CreatePenalties(settings);
            }
            return;
        }
        try
        {
            _grammar = SamplerFactory.CreateGrammar(settings.Grammar, vocab);
            _penalties = SamplerFactory.CreatePenalties(settings);
            _rest = SamplerFactory.CreateRest(settings, vocab);
            if (model is not null) _classes = TokenClasses.GetValue(model, ClassesOf);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Whether the grammar is checked lazily (split chains) rather than as the whole chain's first stage.</summary>
    public bool IsSplit => _chain is null;

    /// <summary>Whether greedy tokens are picked here (<see cref="PickGreedy"/>) rather than by llama.cpp's chain.</summary>
    public bool PicksGreedyHere => _greedyHere;

    // Plain mode with a grammar: whether it is still the chain's first stage.
    private bool _grammarInChain = true;

    public void Accept(LLamaToken token)
    {
        if (_chain is not null)
        {
            _chain.Accept(token);
            if (_greedyHere) AcceptPenalties(token);
            return;
        }
        _grammar?.Accept(token);
        _rest!.Accept(token);
        AcceptPenalties(token);
    }

    private void AcceptPenalties(LLamaToken token)
    {
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
        if (_chain is not null)
        {
            if (allowed is not null) return SampleAllowed(context, logitsIndex, allowed);
            if (_greedyHere)
            {
                int picked = PickGreedy(context.GetLogitsIth(logitsIndex));
                if (picked >= 0)
                {
                    Accept((LLamaToken)picked);
                    return (LLamaToken)picked;
                }
            }
            var sampled = _chain.Sample(context, logitsIndex); // accepts the token in the chain
            if (_greedyHere) AcceptPenalties(sampled);
            return sampled;
        }

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
            int count = Allowed(logits, _settings.Temperature <= 0f ? 1 : _settings.TopK, next, allowed);
            token = Apply(_rest!, _allowed, count);
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
    /// own sampler to just those tokens, they give the values it would give them in the whole vocabulary. The
    /// collected candidates are patched with them (the logits themselves are not copied).
    /// </summary>
    private void Penalise(ReadOnlySpan<float> logits)
    {
        int k = PenaliseRecent(logits);
        for (int i = 0; i < k; i++) _order.Patch((int)_few[i].ID, _few[i].Logit);
    }

    /// <summary>Puts each distinct recent token with its penalised logit in <see cref="_few"/>; returns how many.</summary>
    private int PenaliseRecent(ReadOnlySpan<float> logits)
    {
        if (_penalties is null || _recent.Count == 0) return 0;
        _distinct.Clear();
        foreach (var t in _recent) _distinct.Add((int)t);
        if (_few.Length < _distinct.Count) _few = new LLamaTokenData[Math.Max(_distinct.Count, 64)];
        int k = 0;
        foreach (int id in _distinct) _few[k++] = new LLamaTokenData((LLamaToken)id, logits[id], 0f);
        Apply(_penalties, _few, k, select: false);
        return k;
    }

    /// <summary>
    /// Greedy sampling as llama.cpp's chain (penalties, then greedy) does it, without the chain's work per vocabulary
    /// entry: llama.cpp copies every logit into a candidate and then looks each candidate up in the penalties' table
    /// (128,256 lookups a token on a Llama 3 vocabulary: 358 µs a token here, against 24 µs for this pick, see
    /// GreedySamplingBenchmarks). The penalties change only
    /// the recent tokens' logits: their values come from llama.cpp's own penalties sampler (as in
    /// <see cref="Penalise"/>), are written over those logits while the first largest logit is found, and put back (log
    /// probabilities read the raw logits after this). -1 when <see cref="FirstMax"/> cannot be sure (NaN logits).
    /// </summary>
    internal int PickGreedy(Span<float> logits)
    {
        int k = PenaliseRecent(logits);
        if (_saved.Length < k) _saved = new float[_few.Length];
        for (int i = 0; i < k; i++)
        {
            int id = (int)_few[i].ID;
            _saved[i] = logits[id];
            logits[id] = _few[i].Logit;
        }
        try
        {
            return FirstMax.Of(logits);
        }
        finally
        {
            for (int i = 0; i < k; i++) logits[(int)_few[i].ID] = _saved[i];
        }
    }

    /// <summary>
    /// Puts in <see cref="_allowed"/> the first <paramref name="wanted"/> tokens the grammar allows, in descending
    /// logit order (ties by token id, the order in which greedy and top_k meet them), found by checking candidates
    /// in chunks sized from how many of the last step's checked candidates the grammar allowed; returns how many.
    /// </summary>
    private int Allowed(ReadOnlySpan<float> logits, int wanted, FirstCharacters? next, bool[]? guard)
    {
        int vocab = logits.Length;
        // One pass: the tokens that may pass at all (the rest are refused by the grammar whatever llama.cpp would
        // say of their other characters, and that the text guard lets through), with the penalised logits.
        _order.Collect(logits, _classes, next is not null && _classes.Length == vocab ? next.PassByClass() : null, guard);
        Penalise(logits);

        if (_allowed.Length < wanted) _allowed = new LLamaTokenData[wanted];
        int allowed = 0;
        // The first chunk is at most twice what is wanted (the last step's rate may not hold here), each next one
        // at most four times the one before: a few refusals never make the grammar check thousands of tokens.
        int cap = 2 * wanted + 16;
        while (allowed < wanted && !_order.Done)
        {
            // Enough candidates for the missing ones at the pass rate seen so far (a margin, so that a second
            // chunk is rare); past half of the candidates, one call for the rest is cheaper than more chunks.
            int take = Math.Min((int)Math.Ceiling((wanted - allowed) / _passRate * 1.25) + 4, cap);
            cap = 4 * take;
            if (_order.Taken + take > _order.Count / 2) take = _order.Count - _order.Taken;
            if (_buffer.Length < take) _buffer = new LLamaTokenData[Math.Max(take, 64)];
            int got = _order.Next(_buffer.AsSpan(0, take));
            // The grammar sets the logit of every token it refuses to -inf, in place and in order.
            Apply(_grammar!, _buffer, got, select: false);
            int passed = 0;
            for (int i = 0; i < got; i++)
            {
                if (float.IsNegativeInfinity(_buffer[i].Logit)) continue;
                passed++;
                if (allowed < wanted) _allowed[allowed++] = _buffer[i];
            }
            // The rate this chunk saw, kept for the next step (positions change slowly); never 0, so a chunk is finite.
            _passRate = Math.Clamp((double)passed / Math.Max(got, 1), 0.02, 1.0);
        }
        // A grammar allows at least end-of-generation or one more character (the checker refuses dead ends).
        return allowed;
    }

    private static ushort[] ClassesOf(SafeLlamaModelHandle model)
    {
        int n = model.Vocab.Count;
        var classes = new ushort[n];
        Span<byte> buffer = stackalloc byte[64];
        for (int i = 0; i < n; i++)
        {
            // As llama.cpp's grammar sees the token (its piece); a token with no text, or one too long for the buffer, is left to llama.cpp.
            int length = (int)model.TokenToSpan((LLamaToken)i, buffer);
            bool known = length is > 0 and <= 64;
            classes[i] = FirstCharacters.ClassOf(known ? buffer[0] : (short)-1, known && length > 1 ? buffer[1] : (short)-1);
        }
        return classes;
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
}
