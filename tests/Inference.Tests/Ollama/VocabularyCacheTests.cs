using Inference.Engine.Generation;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// The vocabularies /api/tokenize reads on their own are bounded (<see cref="Vocabularies.MaxCached"/> model files)
/// and one pushed out while another request still uses it is released only after that request: many requests over
/// more model files than the bound, all at once, each get their own vocabulary's answer.
/// </summary>
public sealed class VocabularyCacheTests(TestServer server) : IClassFixture<TestServer>
{
    private const int Files = Vocabularies.MaxCached + 2;

    /// <summary>stories260K with its llama.context_length changed: the same vocabulary in a different model file (blob).</summary>
    private static string CopyOfStories(int i)
    {
        var bytes = File.ReadAllBytes(TestModels.Stories260K);
        var key = "llama.context_length"u8;
        int at = bytes.AsSpan().IndexOf(key);
        Assert.Equal(4u, BitConverter.ToUInt32(bytes, at + key.Length)); // a uint32
        BitConverter.TryWriteBytes(bytes.AsSpan(at + key.Length + 4, 4), (uint)(64 + i));
        var path = Path.Combine(Path.GetTempPath(), $"vocab-cache-{Environment.ProcessId}-{i}.gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public async Task More_model_files_than_the_bound_are_tokenized_at_once_and_the_cache_stays_bounded()
    {
        var paths = Enumerable.Range(0, Files).Select(CopyOfStories).ToList();
        try
        {
            for (int i = 0; i < Files; i++)
            {
                var (created, error) = await server.PostAsync("/api/create", new { model = $"vocab-{i}", from = paths[i], stream = false });
                Assert.True(created == 200, error?.ToJsonString());
            }
            var (_, expected) = await server.PostAsync("/api/tokenize", new { model = "stories", content = "Lily and Ben went to the park." });
            var tokens = expected!["tokens"]!.AsArray().Select(t => (int)t!).ToList();

            var vocabularies = server.Get<Vocabularies>();
            var requests = Enumerable.Range(0, 8 * Files).Select(async k =>
            {
                string model = $"vocab-{k % Files}";
                var (status, r) = await server.PostAsync("/api/tokenize", new { model, content = "Lily and Ben went to the park." });
                Assert.Equal(200, status);
                Assert.Equal(tokens, r!["tokens"]!.AsArray().Select(t => (int)t!));
                var (back, text) = await server.PostAsync("/api/detokenize", new { model, tokens });
                Assert.Equal(200, back);
                Assert.Equal("Lily and Ben went to the park.", (string)text!["content"]!);
                Assert.InRange(vocabularies.CachedCount, 1, Vocabularies.MaxCached);
            });
            await Task.WhenAll(requests);
            Assert.Equal(Vocabularies.MaxCached, vocabularies.CachedCount);
            // None of them was loaded into a scheduler.
            Assert.Empty((await server.GetJsonAsync("/api/ps"))["models"]!.AsArray());
        }
        finally
        {
            foreach (var path in paths) File.Delete(path);
        }
    }
}
