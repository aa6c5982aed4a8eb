using System.Text.Json;
using Inference.Engine.Prompting;
using Inference.Engine.Tools;
using Inference.Tests.Support;

namespace Inference.Tests.Prompting;

/// <summary>Tools, assistant tool calls and tool results rendered into prompts the way Ollama renders them.</summary>
public sealed class ToolRenderingTests
{
    private static ToolCall Call(string name, string arguments, string? id = null) =>
        new(name, JsonDocument.Parse(arguments).RootElement.Clone(), 0, id);

    private static IReadOnlyList<ChatMessage> Conversation() =>
    [
        new("user", "What is the weather in Paris?"),
        new("assistant", "") { ToolCalls = [Call("get_weather", """{"city": "Paris"}""", "call_1")] },
        new("tool", "18 degrees") { ToolName = "get_weather", ToolCallId = "call_1" },
    ];

    /// <summary>The conversation rendered by <see cref="ToolTemplates.Qwen"/> with both tools (also sent raw by the HTTP tests).</summary>
    public const string ExpectedQwenPrompt = """
        <|im_start|>system

        # Tools

        You may call functions. Their signatures:
        <tools>
        {"type": "function", "function": {"name":"get_weather","description":"Current weather in a city","parameters":{"type":"object","required":["city"],"properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}}}}}
        {"type": "function", "function": {"name":"add","description":"Add two integers","parameters":{"type":"object","required":["a","b"],"properties":{"a":{"type":"integer"},"b":{"type":"integer"}}}}}
        </tools>

        Call a function as:
        <tool_call>
        {"name": <function-name>, "arguments": <args-json-object>}
        </tool_call><|im_end|>
        <|im_start|>user
        What is the weather in Paris?<|im_end|>
        <|im_start|>assistant
        <tool_call>
        {"name": "get_weather", "arguments": {"city":"Paris"}}
        </tool_call><|im_end|>
        <|im_start|>user
        <tool_response name="get_weather">
        18 degrees
        </tool_response><|im_end|>
        <|im_start|>assistant

        """;

    [Fact]
    public void A_qwen_style_template_shows_tools_calls_and_results()
    {
        string prompt = PromptBuilder.RenderGo(GoTemplate.Parse(ToolTemplates.Qwen), Conversation(), ToolTemplates.Definitions());
        Assert.Equal(ExpectedQwenPrompt, prompt);
    }

    [Fact]
    public void A_llama_style_template_prints_each_tool_as_json_and_calls_with_parameters()
    {
        var template = GoTemplate.Parse(ToolTemplates.Llama);
        // This template lists the tools in the last message when that is the user's.
        string question = PromptBuilder.RenderGo(template, [new("user", "Add 1 and 2")], ToolTemplates.Definitions());
        Assert.Contains("""{"type":"function","function":{"name":"add","description":"Add two integers",""", question);
        Assert.EndsWith("Question: Add 1 and 2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", question);

        string prompt = PromptBuilder.RenderGo(template, Conversation(), ToolTemplates.Definitions());
        Assert.Contains("""<|start_header_id|>assistant<|end_header_id|>""" + "\n\n" + """{"name": "get_weather", "parameters": {"city":"Paris"}}<|eot_id|>""", prompt);
        Assert.EndsWith("<|start_header_id|>ipython<|end_header_id|>\n\n18 degrees<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", prompt);
    }

    [Theory]
    // Go maps (arguments, properties) are written and ranged in sorted key order, as encoding/json and range do.
    [InlineData("{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Arguments }}{{ end }}{{ end }}", "{\"a\":[1,2.5],\"b\":{\"y\":true,\"z\":null}}")]
    [InlineData("{{ range .Messages }}{{ range .ToolCalls }}{{ json .Function.Arguments }}{{ end }}{{ end }}", "{\"a\":[1,2.5],\"b\":{\"y\":true,\"z\":null}}")]
    [InlineData("{{ range .Messages }}{{ range .ToolCalls }}{{ .ID }} {{ .Function.Index }} {{ .Function.Name }}{{ end }}{{ end }}", "call_9 0 add")]
    [InlineData("{{ range $k, $v := .Messages }}{{ range .ToolCalls }}{{ range $name, $value := .Function.Arguments }}{{ $name }};{{ end }}{{ end }}{{ end }}", "a;b;")]
    [InlineData("{{ range .Messages }}[{{ .Role }}:{{ .ToolName }}:{{ .ToolCallID }}]{{ end }}", "[assistant::][tool:add:call_9]")]
    [InlineData("{{ range .Tools }}{{ .Type }} {{ .Function.Name }}: {{ .Function.Description }}; {{ end }}", "function get_weather: Current weather in a city; function add: Add two integers; ")]
    [InlineData("{{ range .Tools }}{{ range $name, $p := .Function.Parameters.Properties }}{{ $name }}={{ $p.Type }} {{ end }}{{ end }}", "city=string unit=string a=integer b=integer ")]
    [InlineData("{{ range .Tools }}{{ .Function.Parameters.Required }}{{ end }}", "[\"city\"][\"a\",\"b\"]")]
    [InlineData("{{ (index .Tools 1).Function.Parameters }}", "{\"type\":\"object\",\"required\":[\"a\",\"b\"],\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}}}")]
    public void Tool_values_have_ollamas_fields(string template, string expected)
    {
        IReadOnlyList<ChatMessage> messages =
        [
            new("assistant", "") { ToolCalls = [Call("add", """{"b": {"z": null, "y": true}, "a": [1, 2.5]}""", "call_9")] },
            new("tool", "3") { ToolName = "add", ToolCallId = "call_9" },
        ];
        // Only chat templates (.Messages) are given tools, as in Ollama.
        var chat = GoTemplate.Parse(template + "{{ if .Messages }}{{ end }}");
        Assert.Equal(expected, PromptBuilder.RenderGo(chat, messages, ToolTemplates.Definitions()));
    }

    [Fact]
    public void Without_tools_the_template_sees_nil()
    {
        var template = GoTemplate.Parse("{{ if .Tools }}tools{{ else }}none{{ end }}{{ range .Messages }}{{ .Content }}{{ end }}");
        Assert.Equal("nonehi", PromptBuilder.RenderGo(template, [new("user", "hi")], []));
    }

    [Fact]
    public void An_unknown_field_of_a_tool_is_an_error_as_in_go()
    {
        var template = GoTemplate.Parse("{{ range .Tools }}{{ .Function.Title }}{{ end }}{{ .Messages }}");
        var error = Assert.Throws<TemplateRenderException>(() => PromptBuilder.RenderGo(template, [new("user", "hi")], ToolTemplates.Definitions()));
        Assert.Contains("can't evaluate field Title in type templateToolFunction", error.Message);
    }

    [Fact]
    public void Only_schema_keywords_ollamas_types_know_are_shown()
    {
        using var tools = JsonDocument.Parse("""
            [{"type":"function","function":{"name":"f","parameters":{"type":"object","additionalProperties":false,
              "properties":{"n":{"type":["integer","null"],"minimum":3,"description":"N"},
                            "o":{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"}},"required":["z"]}}}}}]
            """);
        Assert.True(ToolDefinition.TryParseList(tools.RootElement, out var definitions, out _));
        string json = PromptBuilder.RenderGo(GoTemplate.Parse("{{ range .Tools }}{{ . }}{{ end }}{{ .Messages }}"), [], definitions);
        // Nested properties keep their order (Ollama's ordered map); the description is omitted when empty.
        Assert.Equal("""
            {"type":"function","function":{"name":"f","description":"","parameters":{"type":"object","properties":{"n":{"type":["integer","null"],"description":"N"},"o":{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"}},"required":["z"]}}}}}[]
            """, json);
    }
}
