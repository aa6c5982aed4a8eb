using System.Threading.Channels;
using Inference.Engine.Grammar.Completion;
using LLama;
using LLama.Native;

namespace Inference.Engine.Scheduling;

/// <summary>The scheduler's state for one active sequence (llama.cpp's server calls this a slot).</summary>
internal sealed class SequenceSlot : IDisposable
{
    public SequenceSlot(GenerationRequest request, LLamaSeqId seqId, SafeLLamaContextHandle context, int contextLength,
        Channel<GenerationEvent> output)
    {
        Request = request;
        SeqId = seqId;
        ContextLength = contextLength;
        Output = output;
        Sampler = new TokenSampler(request.Sampling, context.ModelHandle);
        Decoder = new StreamingTokenDecoder(System.Text.Encoding.UTF8, context);
        Stops = new StopSequenceFilter(request.Stop);
        OutputTokens = request.ReturnTokens ? [] : null;
        _grammarTrigger = request.Sampling.Grammar is null ? null : request.Sampling.GrammarTrigger;
        _context = context;
        // The follower runs with every grammar: it also tells the sampler which tokens can be skipped unchecked.
        if (request.Sampling.Grammar is { } grammar)
        {
            try
            {
                Closer = new GrammarCloser(grammar, CountTokens);
                TextGuard = TokenTextGuard.For(context.ModelHandle);
            }
            catch
            {
                Sampler.Dispose();
                throw;
            }
        }
        // Penalties look at recent history, which includes the prompt (as llama.cpp's server does).
        // Not with a grammar: accepting prompt tokens would advance the grammar as if they were output.
        var prompt = request.Sampling.Grammar is null ? request.PromptTokens : [];
        int from = Math.Max(0, prompt.Length - Math.Max(request.Sampling.RepeatLastN, 0));
        for (int i = from; i < prompt.Length; i++) Sampler.Accept(prompt[i]);
    }

    public GenerationRequest Request { get; }
    public LLamaSeqId SeqId { get; private set; }

    /// <summary>Whether the sequence holds no KV cells yet: its id can then be traded for another (<see cref="TakeId"/>).</summary>
    public bool HasNoCells => KvTokens.Count == 0 && PromptDone == 0;

    /// <summary>Moves a sequence that holds no cells yet to another id (the runner orders new sequences by prompt length).</summary>
    public void TakeId(LLamaSeqId id)
    {
        if (!HasNoCells) throw new InvalidOperationException("a sequence with KV cells cannot change its id");
        SeqId = id;
    }
    public int ContextLength { get; }
    public TokenSampler Sampler { get; }
    public StreamingTokenDecoder Decoder { get; }
    public StopSequenceFilter Stops { get; }
    public Channel<GenerationEvent> Output { get; }

    /// <summary>
    /// Follows the output through the grammar and keeps the document closable within the token budget (see
    /// <see cref="GrammarCloser"/>; it closes only when <see cref="GenerationRequest.CloseGrammar"/>); null without
    /// a grammar, or once the grammar was released or could not be followed.
    /// </summary>
    public GrammarCloser? Closer { get; private set; }

    /// <summary>The tokens a grammar's output may take (valid UTF-8, no hidden control text); null without a grammar.</summary>
    public TokenTextGuard? TextGuard { get; }

    private readonly SafeLLamaContextHandle _context;

    /// <summary>Prompt tokens already placed in the KV cache.</summary>
    public int PromptDone { get; set; }
    public bool Prefilling => PromptDone < Request.PromptTokens.Length;

    /// <summary>Next KV position of this sequence.</summary>
    public int Position { get; set; }

    /// <summary>The last sampled token, fed back at the next step.</summary>
    public LLamaToken LastToken { get; set; }

    /// <summary>Where this slot's logits are in the current batch, or -1 if it gets none this step.</summary>
    public int LogitsIndex { get; set; } = -1;

    /// <summary>Tokens this slot put into the current batch (to share out the step's time).</summary>
    public int TokensInStep { get; set; }

    /// <summary>Whether this step's tokens were prompt tokens (their time counts as prompt eval).</summary>
    public bool PromptInStep { get; set; }

    /// <summary>Position, prompt tokens done and KV tokens before this step's tokens were added, to undo a step whose decode failed.</summary>
    public (int Position, int PromptDone, int KvTokens) StepStart { get; set; }

    /// <summary>The tokens whose KV cells this sequence holds, in position order.</summary>
    public List<LLamaToken> KvTokens { get; } = [];

    /// <summary>
    /// How many of <see cref="KvTokens"/> (from the start) hold what a fresh evaluation of those tokens
    /// would: all of them until a context shift, then only the kept start (see <see cref="ContextShift"/>).
    /// </summary>
    public int ReusableKvCount { get; set; } = int.MaxValue;

    /// <summary>Times this sequence's full context was shifted.</summary>
    public int ContextShifts { get; set; }

    /// <summary>The generated token ids, when the request asked for them (<see cref="GenerationRequest.ReturnTokens"/>).</summary>
    public List<LLamaToken>? OutputTokens { get; }

    /// <summary>Prompt tokens reused from the prefix cache instead of evaluated.</summary>
    public int CachedTokens { get; set; }

    /// <summary>Log-probabilities of tokens not yet attached to an emitted piece.</summary>
    public List<TokenLogprob> PendingLogprobs { get; } = [];

    public int EvalCount { get; set; }

    /// <summary>When the request was queued (a Stopwatch timestamp).</summary>
    public long SubmittedAt { get; init; }

    /// <summary>When its first token was sampled (a Stopwatch timestamp); long.MaxValue before.</summary>
    public long GeneratingSince { get; set; } = long.MaxValue;
    public TimeSpan PromptEvalTime { get; set; }
    public TimeSpan EvalTime { get; set; }

    private string? _grammarTrigger;
    private string _head = "";

    /// <summary>
    /// Follows the start of the output for <see cref="SamplingSettings.GrammarTrigger"/>: when it begins with the
    /// trigger the grammar stays to the end; when it can no longer begin with it, the grammar (the chain's first
    /// stage, see <see cref="SamplerFactory"/>) is removed. Returns true when it was removed.
    /// </summary>
    public bool ObserveOutput(string text)
    {
        if (_grammarTrigger is not { } trigger || text.Length == 0) return false;
        _head += text;
        if (_head.StartsWith(trigger, StringComparison.Ordinal))
        {
            _grammarTrigger = null;
            return false;
        }
        if (trigger.StartsWith(_head, StringComparison.Ordinal)) return false;
        Sampler.ReleaseGrammar();
        _grammarTrigger = null;
        // Free text needs no closing.
        Closer = null;
        return true;
    }

    /// <summary>Tokens this sequence may still generate, the one being sampled included (num_predict, then the context).</summary>
    public int TokensLeft()
    {
        // With a shift the context never runs out; MaxTokens (bounded when shifting) does.
        int left = Request.Shift && Request.MaxTokens >= 0 ? int.MaxValue : ContextLength - Position;
        if (Request.MaxTokens >= 0) left = Math.Min(left, Request.MaxTokens - EvalCount);
        return left;
    }

    /// <summary>Stops closing (the follower lost the grammar's state; see <see cref="GrammarCloser.Lost"/>).</summary>
    public void DropCloser() => Closer = null;

    /// <summary>The token's bytes as llama.cpp's grammar sees them (its piece).</summary>
    public byte[] PieceOf(LLamaToken token)
    {
        Span<byte> buffer = stackalloc byte[128];
        int n = (int)_context.TokenToSpan(token, buffer);
        if (n <= buffer.Length) return buffer[..n].ToArray();
        var large = new byte[n];
        _context.TokenToSpan(token, large);
        return large;
    }

    /// <summary>
    /// What emitting a completion costs: the tokens the model's tokenizer makes of it. SentencePiece vocabularies
    /// put a space in front of a text; a token that is only that space is not part of the completion.
    /// </summary>
    private int CountTokens(string text)
    {
        if (text.Length == 0) return 0;
        var tokens = _context.Tokenize(text, false, false, System.Text.Encoding.UTF8);
        if (tokens.Length > 1 && text[0] != ' ')
        {
            Span<byte> first = stackalloc byte[8];
            if (_context.TokenToSpan(tokens[0], first) == 1 && first[0] == (byte)' ') return tokens.Length - 1;
        }
        return tokens.Length;
    }

    public void Complete(FinishReason reason)
    {
        var rest = Stops.Flush();
        if (reason != FinishReason.Stop && rest.Length > 0) Output.Writer.TryWrite(new TokenPiece(rest));
        Output.Writer.TryWrite(new GenerationCompleted(reason, PromptDone - CachedTokens, PromptEvalTime, EvalCount, EvalTime, CachedTokens,
            ContextShifts, OutputTokens) { StopSequence = reason == FinishReason.Stop ? Stops.Matched : null });
        Output.Writer.TryComplete();
    }

    public void Fail(string message)
    {
        Output.Writer.TryWrite(new GenerationFailed(message));
        Output.Writer.TryComplete();
    }

    public void Dispose() => Sampler.Dispose();
}
