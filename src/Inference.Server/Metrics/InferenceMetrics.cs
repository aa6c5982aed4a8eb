using Inference.Engine.Models;
using Inference.Engine.Scheduling;
using Prometheus;

namespace Inference.Server.Metrics;

/// <summary>
/// Prometheus metrics (prometheus-net) in a registry of this server's own, so several servers in
/// one process (the tests) never mix their numbers. Scheduler counters are read from the engine's
/// <see cref="SchedulerStats"/> at scrape time; per-step and per-token values are observed as they happen.
/// </summary>
public sealed class InferenceMetrics : ISchedulerObserver
{
    private readonly Histogram _batchSequences, _stepSeconds, _ttft, _interToken;
    private readonly Counter _truncated, _shifts, _promptEvaluated, _promptCached, _generated, _steps, _cancelled, _rateLimited, _shared, _grammarsReleased,
        _reusedInPlace, _streamsCopied, _draftsProposed, _draftsAccepted;
    private readonly Gauge _active, _queued, _cached, _maxBatch, _loaded, _memory, _kvUsage;

    public InferenceMetrics()
    {
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        string[] model = ["model"];
        _batchSequences = f.CreateHistogram("inference_batch_sequences", "Sequences decoded together in one decode step.",
            new HistogramConfiguration { LabelNames = model, Buckets = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64] });
        _stepSeconds = f.CreateHistogram("inference_decode_step_seconds", "Duration of one llama_decode call.",
            new HistogramConfiguration { LabelNames = model, Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        _ttft = f.CreateHistogram("inference_time_to_first_token_seconds", "From request start to the first generated text.",
            new HistogramConfiguration { LabelNames = model, Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        _interToken = f.CreateHistogram("inference_inter_token_seconds", "Between successive pieces of a stream.",
            new HistogramConfiguration { LabelNames = model, Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });
        _promptEvaluated = f.CreateCounter("inference_prompt_tokens_evaluated_total", "Prompt tokens evaluated by the model.", model);
        _truncated = f.CreateCounter("inference_prompt_tokens_truncated_total",
            "Prompt tokens dropped to fit prompts into the context (truncate; text too long to tokenize whole counts at least what it must hold).", model);
        _shifts = f.CreateCounter("inference_context_shifts_total",
            "Times a generating sequence filled its context and half of its tokens after num_keep were discarded to go on (shift).", model);
        _promptCached = f.CreateCounter("inference_prompt_tokens_cached_total", "Prompt tokens reused from the prefix cache instead of evaluated.", model);
        _generated = f.CreateCounter("inference_generated_tokens_total", "Tokens generated.", model);
        _steps = f.CreateCounter("inference_decode_steps_total", "Decode steps run by the scheduler loop.", model);
        _cancelled = f.CreateCounter("inference_sequences_cancelled_total", "Sequences dropped because their client went away.", model);
        _shared = f.CreateCounter("inference_shared_prompt_requests_total",
            "Requests that waited for a running prompt they share and forked its KV cells instead of evaluating it.", model);
        _grammarsReleased = f.CreateCounter("inference_tool_grammars_released_total",
            "Sequences whose tool-call grammar was dropped because the output became free text.", model);
        _reusedInPlace = f.CreateCounter("inference_prefixes_reused_in_place_total",
            "Sequences that continued a finished sequence's KV cells where they were, without copying them.", model);
        _streamsCopied = f.CreateCounter("inference_kv_streams_copied_total",
            "KV streams copied whole into a new sequence to share a running sequence's prompt prefix.", model);
        _draftsProposed = f.CreateCounter("inference_draft_tokens_proposed_total",
            "Tokens n-gram speculative decoding guessed and decoded for verification (Inference:SpeculativeDraft).", model);
        _draftsAccepted = f.CreateCounter("inference_draft_tokens_accepted_total",
            "Draft tokens the model's own sampling confirmed, each a generated token without a decode step of its own.", model);
        _rateLimited = f.CreateCounter("inference_rate_limit_rejections_total", "Requests refused by the rate limiter.", "route");
        _active = f.CreateGauge("inference_active_sequences", "Sequences being decoded.", model);
        _queued = f.CreateGauge("inference_queued_requests", "Requests waiting for a free sequence.", model);
        _cached = f.CreateGauge("inference_cached_sequences", "Finished sequences whose KV cells are kept for prefix reuse.", model);
        _maxBatch = f.CreateGauge("inference_max_batch_sequences", "Most sequences decoded together in one step so far.", model);
        // The Gateway API Inference Extension's KVCacheUtilization (vLLM's kv_cache_usage_perc): a 0-1 fraction.
        _kvUsage = f.CreateGauge("inference_kv_cache_usage_ratio",
            "Fraction (0-1) of the loaded model's KV cells holding tokens: running sequences plus cached prefixes still resident.", model);
        _loaded = f.CreateGauge("inference_loaded_models", "Models in memory.");
        _memory = f.CreateGauge("inference_model_memory_bytes", "Estimated memory of a loaded model (weights and KV cache).", model);
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>Reads the engine's counters just before each scrape.</summary>
    public void Track(ModelManager models)
    {
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var s in models.AllStats)
            {
                _promptEvaluated.WithLabels(s.Model).IncTo(s.PromptTokensEvaluated);
                _promptCached.WithLabels(s.Model).IncTo(s.PromptTokensCached);
                _truncated.WithLabels(s.Model).IncTo(s.PromptTokensTruncated);
                _shifts.WithLabels(s.Model).IncTo(s.ContextShifts);
                _generated.WithLabels(s.Model).IncTo(s.TokensGenerated);
                _steps.WithLabels(s.Model).IncTo(s.DecodeSteps);
                _cancelled.WithLabels(s.Model).IncTo(s.CancelledSequences);
                _shared.WithLabels(s.Model).IncTo(s.DeferredRequests);
                _grammarsReleased.WithLabels(s.Model).IncTo(s.GrammarsReleased);
                _reusedInPlace.WithLabels(s.Model).IncTo(s.PrefixesReusedInPlace);
                _streamsCopied.WithLabels(s.Model).IncTo(s.KvStreamsCopied);
                _draftsProposed.WithLabels(s.Model).IncTo(s.DraftTokensProposed);
                _draftsAccepted.WithLabels(s.Model).IncTo(s.DraftTokensAccepted);
                _maxBatch.WithLabels(s.Model).Set(s.MaxSequencesInStep);
                _active.WithLabels(s.Model).Set(0);
                _queued.WithLabels(s.Model).Set(0);
                _cached.WithLabels(s.Model).Set(0);
                _memory.WithLabels(s.Model).Set(0);
                _kvUsage.WithLabels(s.Model).Set(0);
            }
            var loaded = models.Loaded;
            _loaded.Set(loaded.Count);
            foreach (var m in loaded)
            {
                var s = m.Runner.Stats;
                _active.WithLabels(s.Model).Set(s.ActiveSequences);
                _queued.WithLabels(s.Model).Set(s.QueuedRequests);
                _cached.WithLabels(s.Model).Set(s.CachedSequences);
                _memory.WithLabels(s.Model).Set(m.SizeBytes);
                _kvUsage.WithLabels(s.Model).Set(s.KvCellsTotal > 0 ? (double)s.KvCellsUsed / s.KvCellsTotal : 0);
            }
        });
    }

    public void OnStep(string model, int sequences, int tokens, TimeSpan elapsed)
    {
        _batchSequences.WithLabels(model).Observe(sequences);
        _stepSeconds.WithLabels(model).Observe(elapsed.TotalSeconds);
    }

    public void RateLimited(string route) => _rateLimited.WithLabels(route).Inc();
    public void FirstToken(string model, TimeSpan sinceStart) => _ttft.WithLabels(model).Observe(sinceStart.TotalSeconds);
    public void InterToken(string model, TimeSpan gap) => _interToken.WithLabels(model).Observe(gap.TotalSeconds);
}
