using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Anthropic;

/// <summary>The unmodified `@anthropic-ai/sdk` npm client (tests/compat/anthropic-js.mjs) drives /v1/messages.</summary>
[Collection("server")]
public sealed class AnthropicClientCompatibilityTests(SharedServer server)
{
    [Fact]
    public async Task The_anthropic_sdk_works_unchanged()
    {
        await ToolTemplates.CreateModelsAsync(server);
        var r = await CompatClient.RunAsync("anthropic-js.mjs", "@anthropic-ai/sdk", new Dictionary<string, string>
        {
            ["ANTHROPIC_BASE_URL"] = server.BaseUrl, ["MODEL"] = "stories", ["TOOLS_MODEL"] = "qwen-tools",
        });
        // The same conversation through chat completions, for the text and the prompt's token count.
        var (_, chat) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", max_tokens = 12, temperature = 0,
            messages = new object[] { new { role = "system", content = "Tell a story." }, new { role = "user", content = "Once upon a time" } },
        });
        string text = (string)chat!["choices"]![0]!["message"]!["content"]!;
        int prompt = (int)chat["usage"]!["prompt_tokens"]!;

        var message = r["message"]!;
        Assert.Matches("^msg_[0-9a-f]{24}$", (string)message["id"]!);
        Assert.Equal("message", (string)message["type"]!);
        Assert.Equal("assistant", (string)message["role"]!);
        Assert.Equal(new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }).ToJsonString(), message["content"]!.ToJsonString());
        Assert.Equal("max_tokens", (string)message["stop_reason"]!);
        Assert.Null(message["stop_sequence"]);
        Assert.Equal($$"""{"input_tokens":{{prompt}},"output_tokens":12}""", message["usage"]!.ToJsonString());

        var stream = r["stream"]!;
        var types = stream["types"]!.AsArray().Select(t => (string)t!).ToList();
        Assert.Equal(["message_start", "content_block_start", .. Enumerable.Repeat("content_block_delta", types.Count - 5),
            "content_block_stop", "message_delta", "message_stop"], types);
        Assert.Equal(text, (string)stream["text"]!);
        Assert.Equal($$$"""{"stop_reason":"max_tokens","usage":{"input_tokens":{{{prompt}}},"output_tokens":12}}""", stream["delta"]!.ToJsonString());

        var helper = r["helper"]!;
        Assert.Equal(text, (string)helper["text"]!);
        Assert.Equal(message["content"]!.ToJsonString(), helper["content"]!.ToJsonString());
        Assert.Equal("max_tokens", (string)helper["stop_reason"]!);
        Assert.Equal(message["usage"]!.ToJsonString(), helper["usage"]!.ToJsonString());

        // Four characters from inside the text: the answer stops before their first occurrence and names them.
        var stop = r["stop"]!;
        string at = (string)stop["at"]!;
        Assert.Equal(text[..text.IndexOf(at, StringComparison.Ordinal)], (string)stop["text"]!);
        Assert.Equal("stop_sequence", (string)stop["stop_reason"]!);
        Assert.Equal(at, (string)stop["stop_sequence"]!);

        var tools = r["tools"]!;
        foreach (var called in new[] { tools, tools["streamed"]! })
        {
            Assert.Equal("tool_use", (string)called["stop_reason"]!);
            var use = Assert.Single(called["content"]!.AsArray())!;
            Assert.Equal("tool_use", (string)use["type"]!);
            Assert.Matches("^toolu_[a-z0-9]{8}$", (string)use["id"]!);
            Assert.Equal("get_weather", (string)use["name"]!);
            Assert.True(((string)use["input"]!["city"]!).Length <= 16);
        }
        Assert.Equal("assistant", (string)tools["answer"]!["role"]!);

        var missing = r["missing"]!;
        Assert.Equal(404, (int)missing["status"]!);
        Assert.Equal("NotFoundError", (string)missing["name"]!);
        Assert.Equal("not_found_error", (string)missing["type"]!);
        Assert.Equal("model \"no-such-model\" not found, try pulling it first", (string)missing["message"]!);
    }
}
