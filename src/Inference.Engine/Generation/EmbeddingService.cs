using System.Diagnostics;
using Inference.Engine.Models;
using Inference.Engine.Scheduling;
using LLama;
using LLama.Common;
using LLama.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inference.Engine.Generation;

/// <summary>Embeddings of several inputs, with what the response reports about them.</summary>
public sealed record EmbeddingResult(IReadOnlyList<float[]> Vectors, int PromptTokens, TimeSpan LoadDuration, TimeSpan Duration);

/// <summary>
/// Embeddings through the model's <see cref="EmbeddingRunner"/>: an embedding context (mean pooling)
/// kept next to the model's generation context, with its own loop, bounded queue and thread budget.
/// This tokenizes and bounds the inputs on the request's side; the runner batches inputs of queued
/// requests into shared decodes, each input its own sequence. (LLamaSharp's LLamaEmbedder creates
/// a new context for every text and decodes one text per call, so it cannot batch.)
/// </summary>
public sealed class EmbeddingService(ModelManager models, ILogger<EmbeddingRunner>? logger = null)
{
    private const int MaxSequencesPerBatch = 16;

    /// <summary>
    /// Inputs one request may embed (OpenAI's limit). Each returns a vector of the model's width, so
    /// without a bound a body of short strings could ask for more vectors than memory holds.
    /// </summary>
    public const int MaxInputs = 2048;

    /// <summary>
    /// Decodes one batch on the embedding context (a test seam, a plain function field: tests make it
    /// fail, throw or wait). Read at every decode, so a test may swap it while a model is loaded.
    /// </summary>
    internal Func<SafeLLamaContextHandle, LLamaBatch, DecodeResult> DecodeBatch = (context, batch) => context.Decode(batch);

    public async Task<EmbeddingResult> EmbedAsync(ModelDefinition model, IReadOnlyList<string> inputs, bool truncate, int? dimensions,
        ModelOptions options, TimeSpan keepAlive, CancellationToken ct)
    {
        var lease = await models.AcquireAsync(model, models.SettingsFor(model, options), ct);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var loaded = lease.Model;
            // Its compute buffer grows with num_ctx squared: room is made (or a 507 given) before llama.cpp allocates it.
            await models.ReserveEmbeddingContextAsync(lease, ct);
            var runner = loaded.Embeddings(() => CreateRunner(loaded));

            int limit = loaded.Settings.ContextLength;
            var bound = loaded.Runner.TextBound;
            var tokenized = inputs.Select((text, i) =>
            {
                if (!bound.CanFit(text, limit))
                {
                    if (!truncate) throw bound.TooLong(inputs.Count == 1 ? "the input" : $"input[{i}]", text, limit);
                    // Only the first num_ctx tokens are kept, and they lie within the first MaxBytes(num_ctx)
                    // bytes: the rest is cut before tokenizing. The cut is made at twice that, so the kept
                    // tokens are not the ones a cut through a word would change.
                    text = Cut(text, (int)Math.Min(2 * bound.MaxBytes(limit), int.MaxValue));
                }
                var tokens = loaded.Runner.Tokenize(text, addBos: true, special: false);
                if (tokens.Length <= limit) return tokens;
                if (!truncate) throw new PromptTooLongException(tokens.Length, limit);
                return tokens[..limit];
            }).ToList();

            var vectors = await runner.EmbedAsync(tokenized, dimensions, ct);
            return new EmbeddingResult(vectors, tokenized.Sum(t => t.Length), lease.LoadDuration, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            await lease.ReleaseAsync(keepAlive);
        }
    }

    /// <summary>
    /// The model's embedding loop, on its own context. Its decodes take turns with the generation
    /// loop's: the generation runner hands each decode to it from now on (ModelRunner.EmbeddingNeighbor),
    /// so neither slows the other by sharing the cores.
    /// </summary>
    private EmbeddingRunner CreateRunner(LoadedModel loaded)
    {
        int threads = loaded.Settings.Threads;
        var context = loaded.Weights.CreateContext(new ModelParams(loaded.Definition.ModelPath)
        {
            // A batch holds at most ContextLength tokens in all, so one shared pool of that size is enough.
            ContextSize = (uint)loaded.Settings.ContextLength,
            KVUnified = true,
            BatchSize = (uint)loaded.Settings.ContextLength,
            UBatchSize = (uint)loaded.Settings.ContextLength,
            SeqMax = MaxSequencesPerBatch,
            Embeddings = true,
            PoolingType = LLamaPoolingType.Mean,
            Threads = threads,
            BatchThreads = threads,
        });
        // The adapters change the embeddings as they change generations: a model with an adapter embeds with it.
        Backend.LoraAdapters.Apply(context.NativeHandle, loaded.Adapters);
        var generation = loaded.Runner;
        var stats = generation.Stats;
        var runner = new EmbeddingRunner(context, new EmbeddingRunnerSettings
        {
            ContextLength = loaded.Settings.ContextLength,
            SequencesPerBatch = MaxSequencesPerBatch,
            MaxQueue = generation.Settings.MaxQueue,
        }, () => stats.ActiveSequences > 0, (ILogger?)logger ?? NullLogger.Instance)
        {
            DecodeBatch = (context, batch) => DecodeBatch(context, batch),
        };
        generation.EmbeddingNeighbor = runner;
        return runner;
    }

    /// <summary>The first <paramref name="length"/> UTF-16 units of a text, not ending inside a surrogate pair.</summary>
    private static string Cut(string text, int length)
    {
        if (text.Length <= length) return text;
        return char.IsHighSurrogate(text[length - 1]) ? text[..(length - 1)] : text[..length];
    }

    /// <summary>L2-normalized, after keeping the first <paramref name="dimensions"/> values when asked.</summary>
    public static float[] Normalize(float[] vector, int? dimensions)
    {
        if (dimensions is { } d && d < vector.Length) vector = vector[..d];
        double norm = Math.Sqrt(vector.Sum(v => (double)v * v));
        if (norm > 0) for (int i = 0; i < vector.Length; i++) vector[i] = (float)(vector[i] / norm);
        return vector;
    }
}

/// <summary>llama.cpp could not compute embeddings for a request's inputs; other requests are not affected.</summary>
public sealed class EmbeddingFailedException(string message) : Exception(message);
