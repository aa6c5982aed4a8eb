using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>Embeddings through LLamaSharp's embedder with the real stories260K (embedding size 64).</summary>
[Collection("server")]
public sealed class EmbeddingTests(SharedServer server)
{
    private static float[] Vector(JsonNode node) => node.AsArray().Select(v => (float)v!).ToArray();
    private static double Norm(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));

    [Fact]
    public async Task Embed_returns_one_normalized_vector_per_input_and_batching_does_not_change_them()
    {
        var (status, r) = await server.PostAsync("/api/embed", new { model = "stories", input = new[] { "The cat sat on the mat.", "A dog ran in the park." } });
        Assert.Equal(200, status);
        var vectors = r!["embeddings"]!.AsArray().Select(v => Vector(v!)).ToList();
        Assert.Equal(2, vectors.Count);
        Assert.All(vectors, v => Assert.Equal(64, v.Length));
        Assert.All(vectors, v => Assert.Equal(1.0, Norm(v), 4));
        Assert.NotEqual(vectors[0], vectors[1]);
        Assert.True((int)r["prompt_eval_count"]! > 8);

        var (_, alone) = await server.PostAsync("/api/embed", new { model = "stories", input = "A dog ran in the park." });
        var single = Vector(alone!["embeddings"]![0]!);
        for (int i = 0; i < 64; i++) Assert.Equal(vectors[1][i], single[i], 4);
    }

    [Fact]
    public async Task Dimensions_truncate_and_renormalize_and_overlong_input_respects_truncate()
    {
        var (_, r) = await server.PostAsync("/api/embed", new { model = "stories", input = "Tom likes red balls.", dimensions = 16 });
        var v = Vector(r!["embeddings"]![0]!);
        Assert.Equal(16, v.Length);
        Assert.Equal(1.0, Norm(v), 4);

        var longText = string.Concat(Enumerable.Repeat("the big dog ran. ", 40));
        var (status, error) = await server.PostAsync("/api/embed", new { model = "stories", input = longText, truncate = false, options = new { num_ctx = 64 } });
        Assert.Equal(400, status);
        Assert.Contains("exceeds the context length (64 tokens)", (string)error!["error"]!);
        var (okStatus, ok) = await server.PostAsync("/api/embed", new { model = "stories", input = longText, options = new { num_ctx = 64 } });
        Assert.Equal(200, okStatus);
        Assert.Equal(64, (int)ok!["prompt_eval_count"]!);

        var (badStatus, bad) = await server.PostAsync("/api/embed", new { model = "stories", input = 42 });
        Assert.Equal(400, badStatus);
        Assert.Equal("input must be a string or an array of strings", (string)bad!["error"]!);
    }

    [Fact]
    public async Task Legacy_embeddings_and_the_openai_route_answer_in_their_shapes()
    {
        var (_, legacy) = await server.PostAsync("/api/embeddings", new { model = "stories", prompt = "Tom likes red balls." });
        Assert.Equal(64, legacy!["embedding"]!.AsArray().Count);
        var (badStatus, bad) = await server.PostAsync("/api/embeddings", new { model = "stories", prompt = "x", keep_alive = "soon" });
        Assert.Equal(400, badStatus);
        Assert.StartsWith("invalid keep_alive", (string)bad!["error"]!);

        var (status, openai) = await server.PostAsync("/v1/embeddings", new { model = "stories", input = new[] { "one", "two" } });
        Assert.Equal(200, status);
        Assert.Equal("list", (string)openai!["object"]!);
        Assert.Equal(2, openai["data"]!.AsArray().Count);
        Assert.Equal(1, (int)openai["data"]![1]!["index"]!);
        Assert.Equal(64, openai["data"]![0]!["embedding"]!.AsArray().Count);
        Assert.True((int)openai["usage"]!["prompt_tokens"]! >= 2);

        // base64 is the same single-input request's floats, bit for bit (a vector embedded in a batch of
        // two may differ from one embedded alone in its last digits, so both sides embed "one" alone).
        var (_, floats) = await server.PostAsync("/v1/embeddings", new { model = "stories", input = "one", encoding_format = "float" });
        var (_, b64) = await server.PostAsync("/v1/embeddings", new { model = "stories", input = "one", encoding_format = "base64" });
        var bytes = Convert.FromBase64String((string)b64!["data"]![0]!["embedding"]!);
        var fromBase64 = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        Assert.Equal(64, fromBase64.Length);
        Assert.Equal(Vector(floats!["data"]![0]!["embedding"]!), fromBase64);
    }
}
