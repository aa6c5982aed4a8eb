using Inference.Engine.Prompting;

namespace Inference.Tests.Prompting;

/// <summary>
/// Thinking in Go templates: which templates make a model able to think and in which tags (Ollama's InferTags),
/// and the values they render with (.Think, .ThinkLevel, .IsThinkSet, and each message's .Thinking).
/// </summary>
public sealed class ThinkingTemplateTests
{
    private const string Template = """
        {{- range .Messages }}
        {{- if eq .Role "user" }}U: {{ .Content }}
        {{ else if eq .Role "assistant" }}A: {{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}
        {{ end }}
        {{- end }}A:{{ if .IsThinkSet }} think={{ .Think }} level={{ .ThinkLevel }}{{ end }}
        """;

    [Fact]
    public void Tags_are_the_text_around_thinking_inside_a_range_over_messages()
    {
        Assert.Equal(new ThinkingTags("<think>", "</think>"), ThinkingTags.Infer(GoTemplate.Parse(Template)));
        Assert.Equal(new ThinkingTags("[THINK]", "[/THINK]"),
            ThinkingTags.Infer(GoTemplate.Parse("{{ range (slice .Messages 0) }}{{ if .Thinking }}  [THINK]{{ .Thinking }}[/THINK]\n{{ end }}{{ end }}")));
    }

    [Theory]
    [InlineData("{{ .Prompt }}")]                                                  // no reasoning at all
    [InlineData("{{ if .Think }}<think>{{ end }}{{ .Prompt }}")]                    // .Think alone shows no reasoning
    [InlineData("{{ range .Tools }}<think>{{ .Thinking }}</think>{{ end }}")]      // not a range over .Messages
    [InlineData("{{ range .Messages }}{{ .Thinking }}{{ end }}")]                  // no text around it
    public void Templates_that_show_no_reasoning_give_no_tags(string template) =>
        Assert.Null(ThinkingTags.Infer(GoTemplate.Parse(template)));

    [Fact]
    public void Chat_templates_applied_by_llama_cpp_think_when_they_write_both_tags()
    {
        Assert.Equal(ThinkingTags.Think, ThinkingTags.InChatTemplate("{% if x %}<think>{{ r }}</think>{% endif %}"));
        Assert.Null(ThinkingTags.InChatTemplate("{{ '<think>' }}"));
    }

    [Fact]
    public void Templates_see_think_its_level_whether_it_was_set_and_the_reasoning_of_earlier_turns()
    {
        var template = GoTemplate.Parse(Template);
        IReadOnlyList<ChatMessage> messages =
        [
            new("user", "Hi"),
            new("assistant", "Hello") { Thinking = "greet back" },
            new("user", "Bye"),
        ];
        Assert.Equal("U: Hi\nA: <think>greet back</think>Hello\nU: Bye\nA: think=true level=high",
            PromptBuilder.RenderGo(template, messages, think: ThinkValue.AtLevel("high")));
        Assert.Equal("U: Hi\nA: <think>greet back</think>Hello\nU: Bye\nA: think=true level=medium",
            PromptBuilder.RenderGo(template, messages, think: ThinkValue.On));
        Assert.Equal("U: Hi\nA: <think>greet back</think>Hello\nU: Bye\nA: think=false level=",
            PromptBuilder.RenderGo(template, messages, think: ThinkValue.Off));
        Assert.Equal("U: Hi\nA: <think>greet back</think>Hello\nU: Bye\nA:", PromptBuilder.RenderGo(template, messages));
    }

    [Fact]
    public void Legacy_templates_see_think_too() =>
        Assert.Equal("[low] Q",
            PromptBuilder.RenderGo(GoTemplate.Parse("{{ if .Think }}[{{ .ThinkLevel }}] {{ end }}{{ .Prompt }}"), [new("user", "Q")],
                think: ThinkValue.AtLevel("low")));
}
