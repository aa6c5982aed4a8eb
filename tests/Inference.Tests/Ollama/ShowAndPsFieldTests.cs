using System.Text.Json.Nodes;
using Inference.Engine.Gguf;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// /api/show and /api/ps field by field against Ollama's api/types.go (ShowResponse, ProcessModelResponse):
/// every field Ollama sends for a local GGUF model is here with its name and type; the ones it sends only for
/// remote, vision or safetensors models are listed in the README.
/// </summary>
[Collection("server")]
public sealed class ShowAndPsFieldTests(SharedServer server)
{
    [Fact]
    public async Task Show_sends_ollamas_fields_for_a_gguf_model()
    {
        var (status, created) = await server.PostAsync("/api/create", new
        {
            model = "show-fields",
            from = "stories",
            system = "Tell a story.",
            license = "MIT",
            messages = new[] { new { role = "user", content = "Tom had a dog." }, new { role = "assistant", content = "The dog was big." } },
            stream = false,
        });
        Assert.True(status == 200, created?.ToJsonString());
        var (_, show) = await server.PostAsync("/api/show", new { model = "show-fields" });
        var fields = show!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
            ["capabilities", "details", "license", "messages", "model_info", "modelfile", "modified_at", "system", "template", "tensors"],
            fields);

        // messages: the model's MESSAGE layer, role and content.
        var messages = show["messages"]!.AsArray();
        Assert.Equal(2, messages.Count);
        Assert.Equal(("user", "Tom had a dog."), ((string)messages[0]!["role"]!, (string)messages[0]!["content"]!));
        Assert.Equal(("assistant", "The dog was big."), ((string)messages[1]!["role"]!, (string)messages[1]!["content"]!));
        Assert.Equal(2, messages[0]!.AsObject().Count);

        // tensors: every tensor of the GGUF, in file order, with its ggml type name and shape.
        var gguf = GgufFile.Read(TestModels.Stories260K);
        var tensors = show["tensors"]!.AsArray();
        Assert.Equal(gguf.Tensors.Count, tensors.Count);
        for (int i = 0; i < tensors.Count; i++)
        {
            Assert.Equal(gguf.Tensors[i].Name, (string)tensors[i]!["name"]!);
            Assert.Equal(gguf.Tensors[i].TypeName, (string)tensors[i]!["type"]!);
            Assert.Equal(gguf.Tensors[i].Dimensions, tensors[i]!["shape"]!.AsArray().Select(d => (ulong)d!).ToArray());
        }
        Assert.Equal("token_embd.weight", (string)tensors[0]!["name"]!);

        // model_info: as Ollama, without general.name and tokenizer.chat_template.
        Assert.Null(show["model_info"]!["general.name"]);
        Assert.False(show["model_info"]!.AsObject().ContainsKey("general.name"));
        Assert.False(show["model_info"]!.AsObject().ContainsKey("tokenizer.chat_template"));
        Assert.Equal("llama", (string)show["model_info"]!["general.architecture"]!);

        // A model without messages has no messages field (omitempty).
        var (_, plain) = await server.PostAsync("/api/show", new { model = "stories" });
        Assert.False(plain!.AsObject().ContainsKey("messages"));
        Assert.Equal(gguf.Tensors.Count, plain["tensors"]!.AsArray().Count);
    }

    [Fact]
    public async Task Ps_sends_ollamas_fields_longest_expiry_first()
    {
        var options = new { num_predict = 1 };
        Assert.Equal(200, (await server.PostAsync("/api/generate", new { model = "stories", prompt = "a", keep_alive = "10m", options, stream = false })).Status);
        Assert.Equal(200, (await server.PostAsync("/api/generate", new { model = "tiny", prompt = "a", keep_alive = "50m", options, stream = false })).Status);
        var models = (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray();
        var names = models.Select(m => (string)m!["name"]!).ToList();
        Assert.True(names.IndexOf("tiny:latest") < names.IndexOf("stories:latest"), string.Join(", ", names));
        var expiries = models.Select(m => DateTimeOffset.Parse((string)m!["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(expiries.OrderByDescending(e => e), expiries);
        foreach (var m in models)
        {
            var fields = m!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["context_length", "details", "digest", "expires_at", "model", "name", "size", "size_vram"], fields);
            var details = m["details"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["families", "family", "format", "parameter_size", "parent_model", "quantization_level"], details);
        }
        // Leave the models with the default keep-alive for the other classes sharing this server.
        await server.PostAsync("/api/generate", new { model = "stories", prompt = "a", keep_alive = "5m", options, stream = false });
        await server.PostAsync("/api/generate", new { model = "tiny", prompt = "a", keep_alive = "5m", options, stream = false });
    }
}
