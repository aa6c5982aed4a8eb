using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.SchemaCheck;
using Inference.Tests.Support;

namespace Inference.Tests.Grammar.Completion;

/// <summary>
/// Constrained output is valid UTF-8, so it stays closed at the end of its budget. llama.cpp's grammar decodes UTF-8
/// leniently and let the random-weights model put byte tokens such as &lt;0xFF&gt; into a JSON string; the managed
/// follower could not read them, stopped following, and the document was cut instead of closed (issue 12: tiny,
/// tools/get-current-weather, seed 2, cap 24 returned <c>{ "location":");croitionally ... nomin���� fir</c>).
/// </summary>
[Collection("server")]
public sealed class ValidUtf8OutputTests(SharedServer server)
{
    private static async Task<(string Text, string Reason)> GenerateAsync(SharedServer server, string model, JsonNode schema, int seed, int cap)
    {
        var (status, r) = await server.PostAsync("/api/generate", new
        {
            model, prompt = StructuredSample.Prompt, format = schema, stream = false,
            options = new { seed, num_predict = cap },
        });
        Assert.Equal(200, status);
        return ((string)r!["response"]!, (string)r["done_reason"]!);
    }

    private static void AssertClosedAndValid(JsonNode schema, string text, string context)
    {
        // U+FFFD is what the detokenizer makes of bytes that are not UTF-8; the prompt and schema hold none.
        Assert.False(text.Contains('\uFFFD'), $"{context}: invalid UTF-8 in {text}");
        using var document = JsonDocument.Parse(schema.ToJsonString());
        var error = new SchemaOracle(document.RootElement).ValidateText(text);
        Assert.True(error is null, $"{context}: {error}\noutput: {text}");
    }

    [Fact]
    public async Task The_issues_weather_call_is_closed_and_valid_utf8()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(TestModels.RepoRoot(), "tests", "schemas", "tools", "get-current-weather.json")))!;
        var (text, reason) = await GenerateAsync(server, "tiny", schema, seed: 2, cap: 24);
        Assert.Equal("length", reason);
        AssertClosedAndValid(schema, text, "seed 2, cap 24");
    }
}
