using Inference.Engine.Prompting;
using Inference.Engine.Tools;
using Inference.Tests.Support;

namespace Inference.Tests.Tools;

/// <summary>The call format is read off the model's own template by rendering an assistant turn with calls.</summary>
public sealed class ToolCallFormatTests
{
    [Fact]
    public void Qwen_style_calls_are_wrapped_in_tool_call_tags()
    {
        var format = ToolCallFormat.Infer(GoTemplate.Parse(ToolTemplates.Qwen));
        Assert.Equal(new ToolCallFormat("<tool_call>\n", "\n", "\n</tool_call>", "{\"name\": \"", "\", \"arguments\": ", "}"), format);
        Assert.Equal("<tool_call>", format.Trigger);
        Assert.Equal("</tool_call>", format.Closing);
    }

    [Fact]
    public void Llama_style_calls_are_bare_json_with_parameters()
    {
        var format = ToolCallFormat.Infer(GoTemplate.Parse(ToolTemplates.Llama));
        Assert.Equal(new ToolCallFormat("", "\n", "", "{\"name\": \"", "\", \"parameters\": ", "}"), format);
        Assert.Equal("{", format.Trigger);
        Assert.Equal("", format.Closing);
    }

    [Fact]
    public void Mistral_style_calls_are_a_json_list_after_a_tag()
    {
        const string template = """
            {{- range .Messages }}{{ if eq .Role "user" }}[INST] {{ .Content }}[/INST]{{ else if eq .Role "assistant" }}
            {{- if .Content }}{{ .Content }}{{ else if .ToolCalls }}[TOOL_CALLS] [{{ range $i, $c := .ToolCalls }}{{ if $i }}, {{ end -}}
            {"name": "{{ $c.Function.Name }}", "arguments": {{ $c.Function.Arguments }}}{{ end }}]{{ end }}</s>{{ end }}{{ end }}
            """;
        var format = ToolCallFormat.Infer(GoTemplate.Parse(template));
        Assert.Equal(new ToolCallFormat("[TOOL_CALLS] [", ", ", "]", "{\"name\": \"", "\", \"arguments\": ", "}"), format);
        Assert.Equal("[TOOL_CALLS] [", format.Trigger);
    }

    [Fact]
    public void One_tag_pair_per_call_makes_the_separator_close_and_reopen()
    {
        const string template = """
            {{- range .Messages }}{{ .Role }}: {{ if .ToolCalls }}{{ range .ToolCalls }}<tool_call>{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}</tool_call>{{ end }}{{ else }}{{ .Content }}{{ end }}
            {{ end }}
            """;
        var format = ToolCallFormat.Infer(GoTemplate.Parse(template));
        Assert.Equal(new ToolCallFormat("<tool_call>", "</tool_call><tool_call>", "</tool_call>", "{\"name\": \"", "\", \"arguments\": ", "}"), format);
    }

    [Theory]
    // Calls are not rendered at all.
    [InlineData("{{ range .Messages }}{{ .Role }}: {{ .Content }}\n{{ end }}{{ .Tools }}")]
    // Calls are rendered, but not as JSON objects.
    [InlineData("{{ range .Messages }}{{ .Content }}{{ range .ToolCalls }}<function={{ .Function.Name }}>{{ .Function.Arguments }}</function>{{ end }}\n{{ end }}{{ .Tools }}")]
    // Rendering fails.
    [InlineData("{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Missing }}{{ end }}{{ end }}{{ .Tools }}")]
    public void Templates_whose_calls_cannot_be_read_fall_back_to_plain_json(string template) =>
        Assert.Equal(ToolCallFormat.PlainJson, ToolCallFormat.Infer(GoTemplate.Parse(template)));
}
