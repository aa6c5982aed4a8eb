using System.Threading.Channels;
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
        Sampler = SamplerFactory.Create(request.Sampling, context.ModelHandle.Vocab);
        Decoder = new StreamingTokenDecoder(System.Text.Encoding.UTF8, context);
        Stops = new StopSequenceFilter(request.Stop);
        _grammarTrigger = request.Sampling.Grammar is null ? null : request.Sampling.GrammarTrigger;
        // Penalties look at recent history, which includes the prompt (as llama.cpp's server does).
        // Not with a grammar: accepting prompt tokens would advance the grammar as if they were output.
        var prompt = request.Sampling.Grammar is null ? request.PromptTokens : [];
        int from = Math.Max(0, prompt.Length - Math.Max(request.Sampling.RepeatLastN, 0));
        for (int i = from; i < prompt.Length; i++) Sampler.Accept(prompt[i]);
    }

    public GenerationRequest Request { get; }
    public LLamaSeqId SeqId { get; }
    public int ContextLength { get; }
    public SafeLLamaSamplerChainHandle Sampler { get; }
    public StreamingTokenDecoder Decoder { get; }
    public StopSequenceFilter Stops { get; }
    public Channel<GenerationEvent> Output { get; }

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

    /// <summary>Prompt tokens reused from the prefix cache instead of evaluated.</summary>
    public int CachedTokens { get; set; }

    /// <summary>Log-probabilities of tokens not yet attached to an emitted piece.</summary>
    public List<TokenLogprob> PendingLogprobs { get; } = [];

    public int EvalCount { get; set; }
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
        Sampler.Remove(0);
        _grammarTrigger = null;
        return true;
    }

    public void Complete(FinishReason reason)
    {
        var rest = Stops.Flush();
        if (reason != FinishReason.Stop && rest.Length > 0) Output.Writer.TryWrite(new TokenPiece(rest));
        Output.Writer.TryWrite(new GenerationCompleted(reason, PromptDone - CachedTokens, PromptEvalTime, EvalCount, EvalTime, CachedTokens));
        Output.Writer.TryComplete();
    }

    public void Fail(string message)
    {
        Output.Writer.TryWrite(new GenerationFailed(message));
        Output.Writer.TryComplete();
    }

    public void Dispose() => Sampler.Dispose();
}
