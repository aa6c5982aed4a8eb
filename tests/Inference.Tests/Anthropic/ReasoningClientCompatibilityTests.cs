using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Anthropic;

/// <summary>
/// The unmodified `@anthropic-ai/sdk` and `openai` npm clients (tests/compat/reasoning-clients.mjs) read the reasoning
/// of <see cref="ReasonerModel"/> from /v1/messages and /v1/responses, whole and streamed through their helpers.
/// </summary>
[Collection("server")]
public sealed class ReasoningClientCompatibilityTests(SharedServer server)
{
    private const int MaxTokens = 40;

    [Fact]
    public async Task The_anthropic_and_openai_clients_read_the_reasoning()
    {
        await ReasonerModel.CreateAsync(server);
        var (_, chat) = await server.PostAsync("/api/chat", new
        {
            model = ReasonerModel.Name, messages = new[] { new { role = "user", content = "Hi" } }, think = true, stream = false,
            options = new { temperature = 0, num_predict = MaxTokens },
        });
        string thinking = (string)chat!["message"]!["thinking"]!, text = (string)chat["message"]!["content"]!;
        Assert.NotEqual("", thinking);
        Assert.NotEqual("", text);

        var r = await CompatClient.RunAsync("reasoning-clients.mjs", "@anthropic-ai/sdk", new Dictionary<string, string>
        {
            ["BASE_URL"] = server.BaseUrl, ["MODEL"] = ReasonerModel.Name, ["PLAIN_MODEL"] = "stories", ["MAX_TOKENS"] = MaxTokens.ToString(),
        });

        var anthropic = r["anthropic"]!;
        string blocks = new JsonArray(
            new JsonObject { ["type"] = "thinking", ["thinking"] = thinking, ["signature"] = "" },
            new JsonObject { ["type"] = "text", ["text"] = text }).ToJsonString();
        Assert.Equal(blocks, anthropic["content"]!.ToJsonString());
        Assert.Equal(thinking, (string)anthropic["helper"]!["thinking"]!);
        Assert.Equal(blocks, anthropic["helper"]!["content"]!.ToJsonString());
        Assert.Equal((int)chat["eval_count"]!, (int)anthropic["usage"]!["output_tokens"]!);
        var refused = anthropic["refused"]!;
        Assert.Equal(400, (int)refused["status"]!);
        Assert.Equal("BadRequestError", (string)refused["name"]!);
        Assert.Equal("invalid_request_error", (string)refused["type"]!);
        Assert.Equal("\"stories\" does not support thinking", (string)refused["message"]!);

        var openai = r["openai"]!;
        var output = openai["output"]!.AsArray();
        Assert.Equal(["reasoning", "message"], output.Select(i => (string)i!["type"]!));
        Assert.Equal(new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = thinking }).ToJsonString(), output[0]!["summary"]!.ToJsonString());
        Assert.Equal(text, (string)openai["output_text"]!);
        // The stream helper's final response is its own assembly of the events (max_output_tokens cut this one, so
        // no response.completed replaces it and its status stays the snapshot's "in_progress"): the items in order and
        // the text; the summary came as its delta events.
        var helper = openai["helper"]!;
        Assert.Equal("in_progress", (string)helper["status"]!);
        Assert.Equal(["reasoning", "message"], helper["output"]!.AsArray().Select(i => (string)i!["type"]!));
        Assert.Equal(text, (string)helper["output"]![1]!["content"]![0]!["text"]!);
        Assert.Equal(thinking, (string)helper["summary"]!);
        Assert.Equal("""{"effort":"low"}""", openai["reasoning"]!.ToJsonString());
        Assert.Equal(thinking, (string)openai["stream"]!["summary"]!);
        var types = openai["stream"]!["types"]!.AsArray().Select(t => (string)t!).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.reasoning_summary_part.added"], types[..4]);
        Assert.Equal("response.incomplete", types[^1]);
    }
}
