using System.ComponentModel.DataAnnotations;

namespace Inference.Engine.Backend;

public enum BackendKind { Auto, Cpu, Cuda }

/// <summary>Engine settings (section "Inference"); Ollama's environment variables map onto these.</summary>
public sealed class EngineOptions : IValidatableObject
{
    public const string Section = "Inference";

    /// <summary>auto: CUDA when its native library loads and a device exists, else CPU.</summary>
    public BackendKind Backend { get; set; } = BackendKind.Cpu;

    /// <summary>
    /// A directory holding a llama.cpp build of one's own (libllama, libggml*, libmtmd, as
    /// scripts/build-llama-native.sh writes them), loaded instead of the NuGet backend; empty = the NuGet backend.
    /// It must come from the llama.cpp commit LLamaSharp binds (<see cref="LlamaCppVersion.Commit"/>); another is refused at start-up.
    /// </summary>
    public string NativeLibraryPath { get; set; } = "";

    /// <summary>Models directory in Ollama's layout (OLLAMA_MODELS).</summary>
    [Required]
    public string ModelsDirectory { get; set; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ollama", "models");

    /// <summary>
    /// Directories whose regular files <c>POST /api/create</c>'s <c>from</c> may name; none by default,
    /// so clients upload GGUF files with <c>POST /api/blobs</c>. Start-up <c>--model</c> files are not limited.
    /// </summary>
    public string[] ImportDirectories { get; set; } = [];

    /// <summary>At start-up, remove partial downloads, temporary files and blobs no manifest references (OLLAMA_NOPRUNE turns it off).</summary>
    public bool PruneOnStart { get; set; } = true;

    /// <summary>How long an idle model stays loaded (OLLAMA_KEEP_ALIVE); negative = forever.</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sequences decoded together per model (OLLAMA_NUM_PARALLEL).</summary>
    [Range(1, 64)]
    public int NumParallel { get; set; } = 4;

    /// <summary>Requests waiting per model beyond the parallel ones (OLLAMA_MAX_QUEUE).</summary>
    [Range(1, 100_000)]
    public int MaxQueue { get; set; } = 512;

    /// <summary>Models kept in memory at once (OLLAMA_MAX_LOADED_MODELS); 0 = no limit. The least recently used idle one makes room.</summary>
    [Range(0, 1000)]
    public int MaxLoadedModels { get; set; } = 3;

    /// <summary>
    /// Memory the loaded models may use together (weights plus KV cache, as estimated from the GGUF);
    /// 0 = no budget. Idle models are unloaded to stay within it; a model that can never fit is refused.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MemoryBudgetBytes { get; set; }

    /// <summary>Default context window of one sequence when a request sets no num_ctx.</summary>
    [Range(16, 1_048_576)]
    public int DefaultContextLength { get; set; } = 2048;

    /// <summary>
    /// How long loading a model may take before the request that asked for it fails (OLLAMA_LOAD_TIMEOUT,
    /// default 5 minutes as Ollama's); zero or negative = no limit. The abandoned load finishes in the
    /// background and is freed; no other model loads meanwhile.
    /// </summary>
    public TimeSpan LoadTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Tokens decoded per scheduler step at most (prompt chunks share what running streams leave).</summary>
    [Range(16, 65_536)]
    public int StepTokenBudget { get; set; } = 512;

    /// <summary>
    /// Finished sequences per model whose KV cells are kept so later prompts with the same prefix
    /// (chat follow-ups, shared system prompts) skip evaluating it; 0 disables the prefix cache.
    /// </summary>
    [Range(0, 128)]
    public int PrefixCacheSequences { get; set; } = 4;

    /// <summary>
    /// While streams are generating, a long prompt is admitted in chunks small enough that a step
    /// takes at most this multiple of a decode-only step (bounded inter-token latency); 1 or less
    /// disables pacing (chunks use the whole step budget).
    /// </summary>
    [Range(0, 100)]
    public double PrefillLatencyFactor { get; set; } = 1.5;

    /// <summary>
    /// Batch-invariant mode: a request's output depends only on its prompt, options and seed, not on what is
    /// decoded beside it (every sequence's part of a step is padded to a multiple of four tokens, so llama.cpp never
    /// computes a row in a one-token micro-batch or as a leftover of a repacked 4-row GEMM; see
    /// Scheduling/StepPadding.cs). Costs up to three padding tokens per sequence and step.
    /// </summary>
    public bool BatchInvariant { get; set; }

    /// <summary>
    /// Speculative decoding for a stream decoding alone: <c>ngram</c> drafts tokens from n-grams already in the prompt and
    /// output and verifies them in the same decode (Scheduling/DraftVerification.cs); <c>off</c> decodes one token per step.
    /// </summary>
    public string SpeculativeDraft { get; set; } = "off";

    /// <summary>Draft tokens verified per step at most with <see cref="SpeculativeDraft"/> <c>ngram</c>.</summary>
    [Range(1, 64)]
    public int SpeculativeMaxTokens { get; set; } = 8;

    /// <summary>The values <see cref="SpeculativeDraft"/> takes.</summary>
    public static readonly IReadOnlySet<string> SpeculativeDraftValues = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "off", "ngram" };

    /// <summary>Draft tokens per step the scheduler is given (0 = drafting off).</summary>
    public int DraftTokens => SpeculativeDraft.Trim().Equals("ngram", StringComparison.OrdinalIgnoreCase) ? SpeculativeMaxTokens : 0;

    /// <summary>CPU threads for decoding; 0 = one per core.</summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>Layers offloaded to the GPU when a request sets no num_gpu; -1 = all that fit (CUDA only).</summary>
    public int DefaultGpuLayers { get; set; } = -1;

    /// <summary>The GPU that holds the KV cache and small tensors when several are present (llama.cpp's main_gpu).</summary>
    [Range(0, 64)]
    public int MainGpu { get; set; }

    /// <summary>How layers are split across GPUs, as proportions ("3,1" puts three quarters on GPU 0); empty = llama.cpp's default.</summary>
    [RegularExpression(@"^\s*(\d+(\.\d+)?\s*(,\s*\d+(\.\d+)?\s*)*)?$", ErrorMessage = "Inference:TensorSplit must be a comma-separated list of numbers, e.g. \"3,1\"")]
    public string TensorSplit { get; set; } = "";

    public float[] TensorSplitProportions =>
        TensorSplit.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Flash attention: auto (llama.cpp decides; on for CPUs), on or off (OLLAMA_FLASH_ATTENTION).</summary>
    public string FlashAttention { get; set; } = "auto";

    /// <summary>Element type of the KV cache: f16, q8_0 or q4_0 (OLLAMA_KV_CACHE_TYPE); quantized types need flash attention.</summary>
    public string KvCacheType { get; set; } = "f16";

    /// <summary>
    /// Bytes per PATCH when /api/push uploads a blob (100 MiB, about Ollama's smallest part of 100 MB). A chunk is streamed from
    /// the blob file, never held in memory.
    /// </summary>
    public long PushChunkBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>The smallest <see cref="PushChunkBytes"/> allowed (64 KiB): a tiny setting would turn one blob into millions of requests.</summary>
    public const long MinPushChunkBytes = 64 * 1024;

    public int EffectiveThreads => Threads > 0 ? Threads : Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// llama.cpp sizes its output buffer from the batch and aborts the process when one step asks
    /// for logits of more sequences than that, so a step must fit every sequence id.
    /// </summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (StepTokenBudget < NumParallel + PrefixCacheSequences)
            yield return new ValidationResult(
                $"Inference:StepTokenBudget ({StepTokenBudget}) must be at least Inference:NumParallel + Inference:PrefixCacheSequences ({NumParallel + PrefixCacheSequences})",
                [nameof(StepTokenBudget)]);
        if (BatchInvariant && StepTokenBudget < 4 * NumParallel + PrefixCacheSequences)
            yield return new ValidationResult(
                $"Inference:StepTokenBudget ({StepTokenBudget}) must be at least 4 x Inference:NumParallel + Inference:PrefixCacheSequences ({4 * NumParallel + PrefixCacheSequences}) with Inference:BatchInvariant (up to 3 padding tokens per sequence)",
                [nameof(StepTokenBudget)]);
        // A relative directory would depend on the working directory the server happens to start in.
        // A blank entry lists nothing (it is how a command line clears an entry a settings file gave).
        if (!KvCacheSettings.FlashAttentionValues.Contains(FlashAttention.Trim().ToLowerInvariant()))
            yield return new ValidationResult(
                $"Inference:FlashAttention must be auto, on or off, got '{FlashAttention}'", [nameof(FlashAttention)]);
        if (!KvCacheSettings.CacheTypes.ContainsKey(KvCacheType.Trim()))
            yield return new ValidationResult(
                $"Inference:KvCacheType must be f16, q8_0 or q4_0, got '{KvCacheType}'", [nameof(KvCacheType)]);
        if (!SpeculativeDraftValues.Contains(SpeculativeDraft.Trim()))
            yield return new ValidationResult(
                $"Inference:SpeculativeDraft must be off or ngram, got '{SpeculativeDraft}'", [nameof(SpeculativeDraft)]);
        if (PushChunkBytes < MinPushChunkBytes)
            yield return new ValidationResult(
                $"Inference:PushChunkBytes must be at least {MinPushChunkBytes}, got {PushChunkBytes}", [nameof(PushChunkBytes)]);
        foreach (var directory in ImportDirectories.Where(d => !string.IsNullOrWhiteSpace(d) && !Path.IsPathFullyQualified(d)))
            yield return new ValidationResult(
                $"Inference:ImportDirectories entry '{directory}' must be an absolute path", [nameof(ImportDirectories)]);
    }
}
