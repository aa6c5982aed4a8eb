using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

[Collection("server")]
public sealed class ModelManagementTests(SharedServer server)
{
    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private async Task<JsonNode?> Listed(string name) =>
        (await server.GetJsonAsync("/api/tags"))["models"]!.AsArray().FirstOrDefault(m => (string)m!["name"]! == name);

    [Fact]
    public async Task Root_and_version_answer_like_ollama()
    {
        Assert.Equal("Ollama is running", await server.Client.GetStringAsync("/"));
        using var head = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));
        Assert.Equal(200, (int)head.StatusCode);
        Assert.Matches(@"^\d+\.\d+\.\d+$", (string)(await server.GetJsonAsync("/api/version"))["version"]!);
    }

    [Fact]
    public async Task Tags_report_the_real_size_digest_and_details()
    {
        var m = await Listed("stories:latest");
        Assert.NotNull(m);
        Assert.Equal("stories:latest", (string)m["model"]!);
        // The model blob is the GGUF itself, stored under its SHA-256.
        var blob = Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + Sha256(TestModels.Stories260K));
        Assert.True(File.Exists(blob));
        Assert.True((long)m["size"]! >= new FileInfo(TestModels.Stories260K).Length);
        // Ollama's digest is the SHA-256 of the manifest file.
        var manifest = Path.Combine(server.ModelsDirectory, "manifests", "registry.ollama.ai", "library", "stories", "latest");
        Assert.Equal(Sha256(manifest), (string)m["digest"]!);
        var d = m["details"]!;
        Assert.Equal("gguf", (string)d["format"]!);
        Assert.Equal("llama", (string)d["family"]!);
        Assert.Equal("llama", (string)d["families"]![0]!);
        Assert.EndsWith("K", (string)d["parameter_size"]!);
        Assert.Equal("F32", (string)d["quantization_level"]!);
    }

    [Fact]
    public async Task Show_reports_template_details_and_gguf_metadata()
    {
        var (status, r) = await server.PostAsync("/api/show", new { model = "stories" });
        Assert.Equal(200, status);
        Assert.Equal("{{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}{{ .Response }}", (string)r!["template"]!);
        Assert.Contains("FROM ", (string)r["modelfile"]!);
        Assert.Equal("llama", (string)r["details"]!["family"]!);
        var info = r["model_info"]!;
        Assert.Equal("llama", (string)info["general.architecture"]!);
        Assert.Equal(5, (int)info["llama.block_count"]!);
        Assert.Equal(2048, (int)info["llama.context_length"]!);
        Assert.Null(info["tokenizer.ggml.tokens"]); // large arrays only with verbose
        Assert.True((long)info["general.parameter_count"]! > 200_000);
        Assert.Contains("completion", r["capabilities"]!.AsArray().Select(c => (string)c!));

        var (_, verbose) = await server.PostAsync("/api/show", new { model = "stories", verbose = true });
        Assert.Equal(512, verbose!["model_info"]!["tokenizer.ggml.tokens"]!.AsArray().Count);
    }

    [Fact]
    public async Task Create_from_a_file_with_template_system_and_parameters_then_copy_and_delete()
    {
        // The test server lists the temp folder in Inference:ImportDirectories; the shared models directory is not listed.
        using var dir = new TempDirectory();
        File.Copy(TestModels.Stories260K, dir.Combine("stories.gguf"));
        var lines = await server.StreamAsync("/api/create", new
        {
            model = "teller:v1",
            from = dir.Combine("stories.gguf"),
            system = "Tom had a red ball.",
            template = "{{ .System }} {{ .Prompt }}",
            parameters = new { temperature = 0, num_predict = 5, stop = new[] { "xyz" } },
        });
        Assert.Equal("success", (string)lines[^1]["status"]!);

        var (_, show) = await server.PostAsync("/api/show", new { model = "teller:v1" });
        Assert.Equal("{{ .System }} {{ .Prompt }}", (string)show!["template"]!);
        Assert.Equal("Tom had a red ball.", (string)show["system"]!);
        Assert.Contains("num_predict", (string)show["parameters"]!);
        Assert.Contains("PARAMETER stop \"xyz\"", (string)show["modelfile"]!);

        // The params layer supplies defaults: num_predict 5 without any request options.
        var (_, gen) = await server.PostAsync("/api/generate", new { model = "teller:v1", prompt = "One day", stream = false });
        Assert.Equal(5, (int)gen!["eval_count"]!);

        Assert.Equal(200, (await server.PostAsync("/api/copy", new { source = "teller:v1", destination = "teller:copy" })).Status);
        Assert.NotNull(await Listed("teller:copy"));

        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = TestServer.JsonContent(new { model = "teller:copy" }) };
        Assert.Equal(200, (int)(await server.Client.SendAsync(delete)).StatusCode);
        Assert.Null(await Listed("teller:copy"));
        // The shared GGUF blob survives because teller:v1 and stories still use it.
        var (afterStatus, _) = await server.PostAsync("/api/generate", new { model = "teller:v1", prompt = "One day", stream = false });
        Assert.Equal(200, afterStatus);

        using var again = new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = TestServer.JsonContent(new { model = "teller:copy" }) };
        var missing = await server.Client.SendAsync(again);
        Assert.Equal(404, (int)missing.StatusCode);
        Assert.Equal("{\"error\":\"model 'teller:copy' not found\"}", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Create_rejects_files_that_are_not_gguf_or_truncated_and_changes_nothing()
    {
        var before = (await server.GetJsonAsync("/api/tags")).ToJsonString();
        var blobsBefore = Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs")).Length;
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var text = Path.Combine(dir, "notes.gguf");
            await File.WriteAllTextAsync(text, "this is not a model");
            var truncated = Path.Combine(dir, "cut.gguf");
            var bytes = await File.ReadAllBytesAsync(TestModels.Stories260K);
            await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 9 / 10)]);

            var (s1, r1) = await server.PostAsync("/api/create", new { model = "broken1", from = text });
            Assert.Equal(400, s1);
            Assert.StartsWith("invalid model file: not a GGUF file", (string)r1!["error"]!);

            var (s2, r2) = await server.PostAsync("/api/create", new { model = "broken2", from = truncated, stream = false });
            Assert.Equal(400, s2);
            Assert.StartsWith("invalid model file: file is truncated", (string)r2!["error"]!);

            // A missing file gets the same answer as one outside the import directories (see ImportDirectoryTests).
            var (s3, r3) = await server.PostAsync("/api/create", new { model = "broken3", from = Path.Combine(dir, "absent.gguf") });
            Assert.Equal(400, s3);
            Assert.StartsWith("'from' must name an installed model, or a regular file in a directory listed in Inference:ImportDirectories", (string)r3!["error"]!);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
        Assert.Equal(before, (await server.GetJsonAsync("/api/tags")).ToJsonString());
        Assert.Equal(blobsBefore, Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs")).Length);
    }

    [Theory]
    [InlineData("unknown-arch", "failed to load model 'unknown-arch:latest'")]
    [InlineData("cut-short", "file is truncated")]
    public async Task A_model_whose_blob_fails_to_load_gives_a_clear_error_and_others_keep_working(string name, string expected)
    {
        // A store damaged outside the server. Each case uses its own copy of the GGUF (one changed
        // tensor byte gives it its own digest), so no blob that a loaded model maps is touched.
        var bytes = await File.ReadAllBytesAsync(TestModels.TinyRandomLlama2);
        bytes[^1] ^= 0x5A;
        var dir = Directory.CreateTempSubdirectory().FullName;
        var file = Path.Combine(dir, name + ".gguf");
        await File.WriteAllBytesAsync(file, bytes);
        try
        {
            var (_, created) = await server.PostAsync("/api/create", new { model = name, from = file, stream = false });
            Assert.Equal("success", (string)created!["status"]!);
            var blob = Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + Sha256(file));
            if (name == "cut-short")
            {
                await File.WriteAllBytesAsync(blob, bytes[..(bytes.Length / 2)]);
            }
            else
            {
                // Only llama.cpp's loader notices: the header still parses, the architecture is unknown.
                int key = IndexOf(bytes, "general.architecture"u8);
                int value = IndexOf(bytes, "llama"u8, key + 20);
                "zzzzz"u8.CopyTo(bytes.AsSpan(value));
                await File.WriteAllBytesAsync(blob, bytes);
            }

            var (status, r) = await server.PostAsync("/api/generate", new { model = name, prompt = "x", stream = false });
            Assert.Equal(500, status);
            Assert.Contains(expected, (string)r!["error"]!);
            Assert.DoesNotContain((await server.GetJsonAsync("/api/ps"))["models"]!.AsArray(), m => ((string)m!["name"]!).StartsWith(name));
        }
        finally
        {
            Directory.Delete(dir, true);
            using var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = TestServer.JsonContent(new { model = name }) };
            await server.Client.SendAsync(delete);
        }
        var (okStatus, ok) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, okStatus);
        Assert.Equal(3, (int)ok!["eval_count"]!);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle, int from = 0)
    {
        int i = haystack.AsSpan(from).IndexOf(needle);
        Assert.True(i >= 0);
        return from + i;
    }
}
