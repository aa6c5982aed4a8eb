using System.Text;
using Inference.Engine.Models;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Inference.Engine.Generation;

/// <summary>A token id outside the model's vocabulary (a 400: llama.cpp must never be asked for its text).</summary>
public sealed class TokenOutOfRangeException(string message) : Exception(message);

/// <summary>
/// Tokenizes and detokenizes with a model's vocabulary without loading it into a scheduler: a loaded model's own
/// tokenizer when it is loaded, else the vocabulary alone (llama.cpp's vocab_only load: no weights, no context),
/// kept for the last <see cref="MaxCached"/> model files used and released when pushed out or at shutdown.
/// </summary>
public sealed class Vocabularies(ModelManager models) : IDisposable
{
    /// <summary>Vocabularies kept loaded (a large one, 150k tokens, is some tens of MB).</summary>
    public const int MaxCached = 4;

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _loading = new(1, 1);
    // By GGUF path: a content-addressed blob, so names sharing a model file share its vocabulary.
    private readonly Dictionary<string, Entry> _cached = new(StringComparer.Ordinal);

    /// <summary>
    /// The text's tokens as a raw prompt of this model has them (what /api/generate with raw evaluates): the BOS
    /// token when the model adds one, special tokens such as &lt;|im_start|&gt; written in the text parsed as such.
    /// </summary>
    public Task<int[]> TokenizeAsync(ModelDefinition model, string content, CancellationToken ct) =>
        WithVocabularyAsync(model, handle =>
        {
            if (content.Length == 0) return [];
            var tokens = handle.Tokenize(content, handle.Vocab.ShouldAddBOS, special: true, Encoding.UTF8);
            return Array.ConvertAll(tokens, t => (int)t);
        }, ct);

    /// <summary>
    /// The text of the tokens, the inverse of <see cref="TokenizeAsync"/> (much as llama.cpp's llama_detokenize with
    /// remove_special and unparse_special): a leading BOS the model adds itself is left out, the spaces the tokenizer
    /// added are taken off, and other special tokens are written as their text, so that the text round-trips.
    /// Every id is checked against the vocabulary first.
    /// </summary>
    public Task<string> DetokenizeAsync(ModelDefinition model, IReadOnlyList<long> tokens, CancellationToken ct) =>
        WithVocabularyAsync(model, handle =>
        {
            var vocab = handle.Vocab;
            for (int i = 0; i < tokens.Count; i++)
                if (tokens[i] < 0 || tokens[i] >= vocab.Count)
                    throw new TokenOutOfRangeException(
                        $"tokens[{i}] is {tokens[i]}, outside the vocabulary of {model.DisplayName} (ids 0 to {vocab.Count - 1})");

            int start = tokens.Count > 0 && vocab.ShouldAddBOS && vocab.BOS is { } bos && tokens[0] == (int)bos ? 1 : 0;
            var bytes = new List<byte>();
            Span<byte> buffer = stackalloc byte[256];
            // The tokenizer puts a space before each run of text that starts the input or follows a special token
            // (llama.cpp's add_space_prefix): taken off again here, so that the text round-trips. (llama_detokenize
            // takes it off the first run only, and writes "<s> x" back as "<s>  x".)
            bool addsSpace = AddsSpacePrefix(model, vocab), afterSpecial = true;
            for (int i = start; i < tokens.Count; i++)
            {
                var token = (LLamaToken)(int)tokens[i];
                bool special = (token.GetAttributes(vocab) & (LLamaTokenAttr.Control | LLamaTokenAttr.UserDefined | LLamaTokenAttr.Unknown)) != 0;
                int lstrip = addsSpace && afterSpecial && !special ? 1 : 0;
                int n = (int)handle.TokenToSpan(token, buffer, lstrip, special: true);
                if (n > buffer.Length)
                {
                    var large = new byte[n];
                    handle.TokenToSpan(token, large, lstrip, special: true);
                    bytes.AddRange(large);
                }
                else bytes.AddRange(buffer[..n]);
                afterSpecial = special;
            }
            // Byte tokens can split a character: decoded together; bytes that never make one become U+FFFD.
            return Encoding.UTF8.GetString(bytes.ToArray());
        }, ct);

    /// <summary>llama.cpp's add_space_prefix: the GGUF's tokenizer.ggml.add_space_prefix, by default true for SentencePiece vocabularies.</summary>
    private static bool AddsSpacePrefix(ModelDefinition model, SafeLlamaModelHandle.Vocabulary vocab) =>
        model.Gguf.Metadata.TryGetValue("tokenizer.ggml.add_space_prefix", out var value) && value is bool set
            ? set
            : vocab.Type == LLamaVocabType.SentencePiece;

    private async Task<T> WithVocabularyAsync<T>(ModelDefinition model, Func<SafeLlamaModelHandle, T> use, CancellationToken ct)
    {
        // A loaded model's tokenizer: held only for the call, its keep-alive left as it was.
        if (models.TryAcquireLoaded(model.Key) is { } lease)
        {
            try
            {
                return use(lease.Runner.Model);
            }
            finally
            {
                await lease.ReleaseAsync(ModelManager.RemainingKeepAlive(lease.Model));
            }
        }

        var entry = await AcquireAsync(model, ct);
        try
        {
            return use(entry.Weights.NativeHandle);
        }
        finally
        {
            Release(entry);
        }
    }

    private async Task<Entry> AcquireAsync(ModelDefinition model, CancellationToken ct)
    {
        if (TryUse(model.ModelPath) is { } cached) return cached;
        await _loading.WaitAsync(ct);
        try
        {
            if (TryUse(model.ModelPath) is { } loadedMeanwhile) return loadedMeanwhile;
            LLamaWeights weights;
            try
            {
                weights = await Task.Run(() => LLamaWeights.LoadFromFile(new ModelParams(model.ModelPath) { VocabOnly = true, GpuLayerCount = 0 }), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new ModelLoadException($"failed to load the vocabulary of model '{model.DisplayName}': {ex.Message}", ex);
            }
            var entry = new Entry(weights) { Users = 1, LastUsed = Environment.TickCount64 };
            List<Entry> pushedOut;
            lock (_gate)
            {
                _cached[model.ModelPath] = entry;
                var oldest = _cached.OrderBy(p => p.Value.LastUsed).Take(Math.Max(0, _cached.Count - MaxCached)).ToList();
                foreach (var (path, old) in oldest)
                {
                    _cached.Remove(path);
                    old.Evicted = true;
                }
                pushedOut = [.. oldest.Select(p => p.Value)];
            }
            // One still in use is released by its last user.
            foreach (var old in pushedOut) DisposeIfUnused(old);
            return entry;
        }
        finally
        {
            _loading.Release();
        }
    }

    private Entry? TryUse(string path)
    {
        lock (_gate)
        {
            if (!_cached.TryGetValue(path, out var entry)) return null;
            entry.Users++;
            entry.LastUsed = Environment.TickCount64;
            return entry;
        }
    }

    private void Release(Entry entry)
    {
        lock (_gate) entry.Users--;
        DisposeIfUnused(entry);
    }

    private void DisposeIfUnused(Entry entry)
    {
        lock (_gate)
        {
            if (!entry.Evicted || entry.Users > 0 || entry.Disposed) return;
            entry.Disposed = true;
        }
        entry.Weights.Dispose();
    }

    /// <summary>How many vocabularies are loaded on their own now (for tests and diagnostics).</summary>
    public int CachedCount
    {
        get { lock (_gate) return _cached.Count; }
    }

    public void Dispose()
    {
        List<Entry> all;
        lock (_gate)
        {
            all = [.. _cached.Values];
            _cached.Clear();
            foreach (var entry in all) entry.Evicted = true;
        }
        foreach (var entry in all) DisposeIfUnused(entry);
    }

    /// <summary>A vocabulary loaded on its own; the counts and flags are guarded by the cache's lock.</summary>
    private sealed class Entry(LLamaWeights weights)
    {
        public LLamaWeights Weights { get; } = weights;
        public int Users;
        public long LastUsed;
        public bool Evicted;
        public bool Disposed;
    }
}
