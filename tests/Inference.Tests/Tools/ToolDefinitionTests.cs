using System.Text.Json;
using Inference.Engine.Tools;

namespace Inference.Tests.Tools;

/// <summary>The shape checks on a request's tools and on assistant messages' tool_calls.</summary>
public sealed class ToolDefinitionTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void Well_formed_tools_are_read()
    {
        Assert.True(ToolDefinition.TryParseList(Json("""
            [{"type":"function","function":{"name":"ns.get-weather:v1","description":"d","parameters":{"type":"object"}}},
             {"type":"function","function":{"name":"now"}}]
            """), out var tools, out _));
        Assert.Equal(["ns.get-weather:v1", "now"], tools.Select(t => t.Name));
        Assert.Equal("d", tools[0].Description);
        Assert.Null(tools[1].Parameters);
        Assert.True(ToolDefinition.TryParseList(null, out tools, out _));
        Assert.Empty(tools);
    }

    [Theory]
    [InlineData("{}", "tools must be an array of tool objects", "tools")]
    [InlineData("[1]", "tools[0] must be an object", "tools[0]")]
    [InlineData("[{\"function\":{\"name\":\"f\"}}]", "tools[0].type must be \"function\"", "tools[0].type")]
    [InlineData("[{\"type\":\"function\"}]", "tools[0].function must be an object", "tools[0].function")]
    [InlineData("[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]", "tools[0].function.name must be a non-empty string", "tools[0].function.name")]
    [InlineData("[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]", "tools[0].function.name must be 1 to 64 letters, digits, underscores, dots, colons or dashes", "tools[0].function.name")]
    [InlineData("[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":\"x\"}}]", "tools[0].function.parameters must be a JSON Schema object", "tools[0].function.parameters")]
    [InlineData("[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":1}}]", "tools[0].function.description must be a string", "tools[0].function.description")]
    [InlineData("[{\"type\":\"function\",\"function\":{\"name\":\"f\"}},{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]", "tools[1].function.name: the function 'f' is declared twice", "tools[1].function.name")]
    public void Bad_tools_are_refused_with_the_field_named(string tools, string message, string param)
    {
        Assert.False(ToolDefinition.TryParseList(Json(tools), out _, out var error));
        Assert.Equal(message, error!.Message);
        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void Message_tool_calls_take_arguments_as_an_object_or_a_json_string()
    {
        Assert.True(ToolCall.TryParseList(Json("""
            [{"function":{"name":"add","arguments":{"a":1}}},{"id":"call_7","type":"function","function":{"name":"add","arguments":"{\"b\":2}"}},
             {"function":{"name":"now"}}]
            """), "m", out var calls, out _));
        Assert.Equal(["{\"a\":1}", "{\"b\":2}", "{}"], calls!.Select(c => JsonSerializer.Serialize(c.Arguments)));
        Assert.Equal("call_7", calls![1].Id);

        Assert.False(ToolCall.TryParseList(Json("""[{"function":{"name":"add","arguments":"[1]"}}]"""), "messages[1].tool_calls", out _, out var error));
        Assert.Equal("messages[1].tool_calls[0].function.arguments", error!.Param);
        Assert.False(ToolCall.TryParseList(Json("""[{"function":{}}]"""), "m", out _, out error));
        Assert.Equal("m[0].function.name must be a non-empty string", error!.Message);
    }
}
