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
