using System.Text;
using System.Text.Json;
using Inference.Engine.Tools;

namespace Inference.Tests.Tools;

/// <summary>Streaming split of generated text into content and calls.</summary>
public sealed class ToolCallParserTests
{
    private static readonly ToolCallFormat Tagged = new("<tool_call>\n", "\n", "\n</tool_call>", "{\"name\": \"", "\", \"arguments\": ", "}");
    private static readonly string[] Names = ["get_weather", "add"];

    /// <summary>Feeds the text in pieces of <paramref name="size"/> characters, as a stream would.</summary>
    private static (string Content, List<ToolCall> Calls, List<string> Pieces) Parse(ToolCallFormat format, string text, int size = 1)
    {
        var parser = new ToolCallParser(format, Names);
        var content = new StringBuilder();
        var calls = new List<ToolCall>();
        var pieces = new List<string>();
        for (int i = 0; i < text.Length; i += size)
        {
            var r = parser.Add(text.Substring(i, Math.Min(size, text.Length - i)));
            content.Append(r.Content);
            if (r.Content.Length > 0) pieces.Add(r.Content);
            calls.AddRange(r.Calls);
        }
        var end = parser.Finish();
        content.Append(end.Content);
        calls.AddRange(end.Calls);
        return (content.ToString(), calls, pieces);
    }

    private static string Json(JsonElement e) => JsonSerializer.Serialize(e);

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(1000)]
    public void A_tagged_call_becomes_a_call_and_no_content(int size)
    {
        var (content, calls, _) = Parse(Tagged, "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>", size);
        Assert.Equal("", content);
        var call = Assert.Single(calls);
        Assert.Equal("add", call.Name);
        Assert.Equal("{\"a\":1,\"b\":2}", Json(call.Arguments));
        Assert.Equal(0, call.Index);
        Assert.Matches("^call_[a-z0-9]{8}$", call.Id);
    }

    [Fact]
    public void Text_around_calls_is_content_and_a_partial_trigger_is_held_back()
    {
        var (content, calls, pieces) = Parse(Tagged,
            "Let me check. <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n{\"name\": \"add\", \"arguments\": {}}\n</tool_call>\nDone <tool");
        Assert.Equal("Let me check. \nDone <tool", content);
        Assert.Equal(["get_weather", "add"], calls.Select(c => c.Name));
        Assert.Equal([0, 1], calls.Select(c => c.Index));
        Assert.NotEqual(calls[0].Id, calls[1].Id);
        // Nothing of the tag was let out while it could still be one.
        Assert.DoesNotContain(pieces, p => p.Contains('<'));
    }

    [Fact]
    public void Text_that_only_starts_like_the_trigger_is_let_out()
    {
        var parser = new ToolCallParser(Tagged, Names);
        Assert.Equal("a ", parser.Add("a <to").Content);
        Assert.Equal("<tomato", parser.Add("mato").Content);
    }

    [Theory]
    // An unknown function, a call that is not JSON, text instead of calls: all given back as content.
    [InlineData("<tool_call>\n{\"name\": \"rm_rf\", \"arguments\": {}}\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1,}}\n</tool_call>")]
    [InlineData("<tool_call> is a tag")]
    // Cut off by the token limit.
    [InlineData("<tool_call>\n{\"name\": \"add\", \"argu")]
    public void What_is_not_a_call_comes_back_as_content(string text)
    {
        var (content, calls, _) = Parse(Tagged, text);
        Assert.Empty(calls);
        Assert.Equal(text, content);
    }

    [Fact]
    public void Bare_json_calls_are_parsed_only_at_the_start()
    {
        var (content, calls, _) = Parse(ToolCallFormat.PlainJson, "  {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
        Assert.Equal("", content);
        Assert.Equal("{\"city\":\"Oslo\"}", Json(Assert.Single(calls).Arguments));

        (content, calls, var pieces) = Parse(ToolCallFormat.PlainJson, "I would call {\"name\": \"add\", \"arguments\": {}}");
        Assert.Empty(calls);
        Assert.Equal("I would call {\"name\": \"add\", \"arguments\": {}}", content);
        Assert.Equal("I", pieces[0]); // decided at the first character, then streamed through

        (content, calls, _) = Parse(ToolCallFormat.PlainJson, "{\"answer\": 42}");
        Assert.Empty(calls);
        Assert.Equal("{\"answer\": 42}", content);
    }

    [Fact]
    public void Lists_string_arguments_and_function_wrappers_are_read()
    {
        var (content, calls, _) = Parse(ToolCallFormat.PlainJson,
            "[{\"name\": \"add\", \"arguments\": \"{\\\"a\\\": 1, \\\"b\\\": 2}\"}, {\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"}{\"}}}]");
        Assert.Equal("", content);
        Assert.Equal(["add", "get_weather"], calls.Select(c => c.Name));
        Assert.Equal("{\"a\":1,\"b\":2}", Json(calls[0].Arguments));
        Assert.Equal("{\"city\":\"}{\"}", Json(calls[1].Arguments));
    }

    [Fact]
    public void Text_after_the_calls_without_a_closing_tag_is_content()
    {
        var (content, calls, _) = Parse(ToolCallFormat.PlainJson, "{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\nThat is all.");
        Assert.Single(calls);
        Assert.Equal("That is all.", content);
    }
}
