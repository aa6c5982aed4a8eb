using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

[Collection("server")]
public sealed class BlobAndTemplateTests(SharedServer server)
{
    [Fact]
    public async Task Create_from_an_uploaded_blob_with_ollamas_files_field()
    {
        var bytes = await File.ReadAllBytesAsync(TestModels.Stories260K);
        bytes[^1] ^= 0x11; // its own digest, so the blob is new to the store
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

        using var missing = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/blobs/{digest}"));
        Assert.Equal(404, (int)missing.StatusCode);

        var wrong = new ByteArrayContent(bytes[..1000]);
        var rejected = await server.Client.PostAsync($"/api/blobs/{digest}", wrong);
        Assert.Equal(400, (int)rejected.StatusCode);
        Assert.Contains("digest", (string)JsonNode.Parse(await rejected.Content.ReadAsStringAsync())!["error"]!);

        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Assert.Equal(201, (int)(await server.Client.PostAsync($"/api/blobs/{digest}", content)).StatusCode);
        using var present = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/blobs/{digest}"));
        Assert.Equal(200, (int)present.StatusCode);

        var (status, r) = await server.PostAsync("/api/create", new { model = "uploaded", files = new Dictionary<string, string> { ["model.gguf"] = digest }, stream = false });
        Assert.Equal(200, status);
        Assert.Equal("success", (string)r!["status"]!);
        var (genStatus, gen) = await server.PostAsync("/api/generate", new { model = "uploaded", prompt = "Once", stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, genStatus);
        Assert.Equal(3, (int)gen!["eval_count"]!);

        var (badStatus, bad) = await server.PostAsync("/api/blobs/sha256:xyz", new { });
        Assert.Equal(400, badStatus);
        Assert.Equal("invalid digest 'sha256:xyz'", (string)bad!["error"]!);
    }

    /// <summary>A body generated while it is sent: <paramref name="length"/> pseudo-random bytes, hashed on the way.</summary>
    private sealed class GeneratedContent(long length, int seed) : HttpContent
    {
        public IncrementalHash Hash { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var random = new Random(seed);
            var chunk = new byte[1 << 20];
            for (long left = length; left > 0; left -= chunk.Length)
            {
                random.NextBytes(chunk);
                int n = (int)Math.Min(chunk.Length, left);
                Hash.AppendData(chunk, 0, n);
                await stream.WriteAsync(chunk.AsMemory(0, n));
            }
        }

        protected override bool TryComputeLength(out long computed)
        {
            computed = length;
            return true;
        }
    }

    private static async Task<string> DigestOfAsync(long length, int seed)
    {
        using var content = new GeneratedContent(length, seed);
        await content.CopyToAsync(Stream.Null);
        return "sha256:" + Convert.ToHexStringLower(content.Hash.GetHashAndReset());
    }

    [Fact]
    public async Task A_blob_larger_than_the_default_body_limit_streams_to_disk_with_its_digest_checked()
    {
        const long size = 40L << 20; // Kestrel's default limit is 30 MB; a real model is GBs
        var digest = await DigestOfAsync(size, seed: 40);
        var blobs = Path.Combine(server.ModelsDirectory, "blobs");

        // A wrong digest: the whole body is read, nothing is kept.
        var before = Directory.GetFiles(blobs).Order().ToArray();
        using (var wrong = await server.Client.PostAsync("/api/blobs/sha256:" + new string('f', 64), new GeneratedContent(size, seed: 40)))
        {
            Assert.Equal(400, (int)wrong.StatusCode);
            Assert.Equal($"{{\"error\":\"digest mismatch: expected sha256:{new string('f', 64)}, content is {digest}\"}}", await wrong.Content.ReadAsStringAsync());
        }
        Assert.Equal(before, Directory.GetFiles(blobs).Order().ToArray());

        using (var created = await server.Client.PostAsync($"/api/blobs/{digest}", new GeneratedContent(size, seed: 40)))
            Assert.Equal(201, (int)created.StatusCode);
        var stored = Path.Combine(blobs, "sha256-" + digest[7..]);
        Assert.Equal(size, new FileInfo(stored).Length);
        await using (var file = File.OpenRead(stored))
            Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(file)));
        File.Delete(stored);
    }

    /// <summary>Sends <paramref name="first"/> bytes, then holds the request open until it is cancelled.</summary>
    private sealed class StalledContent(int first) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken ct)
        {
            await stream.WriteAsync(new byte[first], ct);
            await stream.FlushAsync(ct);
            await Task.Delay(Timeout.Infinite, ct);
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task An_upload_is_written_to_disk_as_it_arrives_and_a_cut_off_one_leaves_nothing()
    {
        var blobs = Path.Combine(server.ModelsDirectory, "blobs");
        string[] Partials() => Directory.GetFiles(blobs, "sha256-partial-*");
        Assert.Empty(Partials());
        var digest = "sha256:" + new string('9', 64);
        using var cancel = new CancellationTokenSource();
        var upload = server.Client.PostAsync($"/api/blobs/{digest}", new StalledContent(16 << 20), cancel.Token);

        // The first 16 MiB are on disk while the client still holds the rest of the body back: nothing buffers the body whole.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(Partials() is [var p] && new FileInfo(p).Length == 16 << 20))
        {
            Assert.True(DateTime.UtcNow < deadline, "the upload's temporary file did not reach 16 MiB");
            await Task.Delay(20);
        }

        await cancel.CancelAsync(); // the client goes away mid-body
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload);
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (Partials().Length > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the cut-off upload's temporary file was not removed");
            await Task.Delay(20);
        }
        Assert.False(File.Exists(Path.Combine(blobs, "sha256-" + new string('9', 64))));
    }

    [Fact]
    public async Task A_request_template_replaces_the_models_template()
    {
        var options = new { temperature = 0, num_predict = 8 };
        var (_, templated) = await server.PostAsync("/api/generate", new
        {
            model = "stories", prompt = "a red ball", system = "Tom had", template = "{{ .System }} {{ .Prompt }}.", options, stream = false,
        });
        var (_, raw) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Tom had a red ball.", raw = true, options, stream = false });
        Assert.Equal((string)raw!["response"]!, (string)templated!["response"]!);

        var (status, bad) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "x", template = "{{ if .Prompt }}", stream = false });
        Assert.Equal(400, status);
        Assert.StartsWith("invalid template: ", (string)bad!["error"]!);
    }

    [Fact]
    public async Task The_openapi_document_lists_every_ollama_route()
    {
        var doc = await server.GetJsonAsync("/openapi/v1.json");
        var paths = doc["paths"]!.AsObject();
        foreach (var route in new[] { "/api/generate", "/api/chat", "/api/tags", "/api/show", "/api/ps", "/api/create", "/api/delete", "/api/copy", "/api/version", "/api/blobs/{digest}" })
            Assert.True(paths.ContainsKey(route), $"{route} missing from the OpenAPI document");
        Assert.NotNull(paths["/api/generate"]!["post"]!["requestBody"]);
    }
}
