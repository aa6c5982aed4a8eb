using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.OpenAI;

/// <summary>The unmodified `openai` npm client (tests/compat/openai-responses.mjs) drives /v1/responses.</summary>
[Collection("server")]
public sealed class ResponsesClientCompatibilityTests(SharedServer server)
{
    [Fact]
    public async Task The_openai_client_responses_api_works_unchanged()
    {
        await ToolTemplates.CreateModelsAsync(server);
        var r = await CompatClient.RunAsync("openai-responses.mjs", "openai", new Dictionary<string, string>
        {
            ["OPENAI_BASE_URL"] = server.BaseUrl + "/v1", ["MODEL"] = "stories", ["TOOLS_MODEL"] = "qwen-tools",
        });
        // The same conversation through chat completions, for the text and the prompt's token count.
        var (_, chat) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", max_tokens = 12, temperature = 0,
            messages = new object[] { new { role = "system", content = "Tell a story." }, new { role = "user", content = "Once upon a time" } },
        });
        string text = (string)chat!["choices"]![0]!["message"]!["content"]!;
        int prompt = (int)chat["usage"]!["prompt_tokens"]!;

        var response = r["response"]!;
        Assert.Matches("^resp_[0-9a-f]{24}$", (string)response["id"]!);
        Assert.Equal("response", (string)response["object"]!);
        Assert.Equal("incomplete", (string)response["status"]!);
        Assert.Equal("""{"reason":"max_output_tokens"}""", response["incomplete"]!.ToJsonString());
        Assert.Equal(text, (string)response["output_text"]!); // the client's own accessor, assembled from the output items
        Assert.Equal(prompt, (int)response["usage"]!["input_tokens"]!);
        Assert.Equal(12, (int)response["usage"]!["output_tokens"]!);
        Assert.Equal(prompt + 12, (int)response["usage"]!["total_tokens"]!);

        var stream = r["stream"]!;
        var types = stream["types"]!.AsArray().Select(t => (string)t!).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            .. Enumerable.Repeat("response.output_text.delta", types.Count - 8), "response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.incomplete"], types);
        Assert.Equal(Enumerable.Range(0, types.Count), stream["sequence"]!.AsArray().Select(n => (int)n!));
        Assert.Equal(text, (string)stream["text"]!);
        Assert.Equal("incomplete", (string)stream["status"]!);
        Assert.Equal(response["usage"]!["input_tokens"]!.ToJsonString(), stream["usage"]!["input_tokens"]!.ToJsonString());
        Assert.Equal(12, (int)stream["usage"]!["output_tokens"]!);

        // text.format from zodTextFormat: responses.parse read the output into the schema's shape.
        var parsed = r["parsed"]!;
        Assert.Equal("completed", (string)parsed["status"]!);
        Assert.True(((string)parsed["value"]!["name"]!).Length <= 12);
        Assert.InRange((int)parsed["value"]!["age"]!, 0, 120);

        var tools = r["tools"]!;
        Assert.Equal("completed", (string)tools["status"]!);
        foreach (var output in new[] { tools["output"]!, r["helper"]!["output"]! })
        {
            var call = Assert.Single(output.AsArray())!;
            Assert.Equal("function_call", (string)call["type"]!);
            Assert.Matches("^call_[a-z0-9]{8}$", (string)call["call_id"]!);
            Assert.Equal("get_weather", (string)call["name"]!);
            Assert.True(((string)JsonNode.Parse((string)call["arguments"]!)!["city"]!).Length <= 16);
        }
        Assert.Equal("completed", (string)r["helper"]!["status"]!);
        Assert.Equal((string)r["helper"]!["output"]![0]!["arguments"]!, (string)r["helper"]!["arguments"]!);
        Assert.Equal("""["message"]""", tools["answer"]!["output_types"]!.ToJsonString());

        var stateful = r["stateful"]!;
        Assert.Equal(400, (int)stateful["status"]!);
        Assert.Equal("BadRequestError", (string)stateful["name"]!);
        Assert.Equal("previous_response_id", (string)stateful["param"]!);
    }
}
