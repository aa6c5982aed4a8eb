using System.Text.Json;
using Inference.Engine.Prompting;

namespace Inference.Tests.Prompting;

public class GoTemplateTests
{
    private const string SystemPrompt = "You are a helpful assistant.";

    // The conversation Ollama's own template tests use (template/template_test.go).
    private static readonly TemplateData Conversation = new()
    {
        System = SystemPrompt,
        Messages =
        [
            new("system", SystemPrompt),
            new("user", "Hello, how are you?"),
            new("assistant", "I'm doing great. How can I help you today?"),
            new("user", "I'd like to show off how chat templating works!"),
        ],
    };

    // Data for the table tests.
    private static readonly TemplateData Data = new()
    {
        System = "sys",
        Prompt = "hi",
        Messages = [new("user", "a"), new("assistant", "b")],
    };

    private static string Render(string template, TemplateData? data = null) =>
        GoTemplate.Parse(template).Render(data ?? Data);

    // ---- Real Ollama templates -------------------------------------------------------------------
    // Expected strings are Ollama's golden files (produced by Go's text/template) for
    // system + user + assistant + user; Ollama passes the joined system messages as .System too.

    public static TheoryData<string, string, string> RealTemplates => new()
    {
        { "llama3-instruct", Llama3InstructTemplate, Llama3InstructExpected },
        { "chatml", ChatmlTemplate, ChatmlExpected },
        { "mistral-instruct", MistralInstructTemplate, MistralInstructExpected },
        { "alpaca", AlpacaTemplate, AlpacaExpected },
        { "zephyr", ZephyrTemplate, ZephyrExpected },
        { "codellama-70b-instruct", Codellama70bInstructTemplate, Codellama70bInstructExpected },
        { "gemma-instruct", GemmaInstructTemplate, GemmaInstructExpected },
        { "phi-3", Phi3Template, Phi3Expected },
        { "llama2-chat", Llama2ChatTemplate, Llama2ChatExpected },
        { "vicuna", VicunaTemplate, VicunaExpected },
        { "command-r", CommandRTemplate, CommandRExpected },
    };

    [Theory]
    [MemberData(nameof(RealTemplates))]
    public void RealTemplate_SystemUserAssistantUser(string name, string template, string expected)
    {
        var parsed = GoTemplate.Parse(template);
        Assert.True(parsed.UsesMessages, name);
        Assert.Equal(expected, parsed.Render(Conversation));
    }

    [Fact]
    public void RealTemplates_SingleUserMessage()
    {
        var data = new TemplateData { Messages = [new("user", "Hello, how are you?")] };
        Assert.Equal(
            "<|start_header_id|>user<|end_header_id|>\n\nHello, how are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            GoTemplate.Parse(Llama3InstructTemplate).Render(data));
        Assert.Equal(
            "<start_of_turn>user\nHello, how are you?<end_of_turn>\n<start_of_turn>model\n",
            GoTemplate.Parse(GemmaInstructTemplate).Render(data));
        Assert.Equal(
            "[INST] Hello, how are you?[/INST]",
            GoTemplate.Parse(MistralInstructTemplate).Render(data));
        Assert.Equal(
            "### Instruction:\nHello, how are you?\n\n### Response:\n",
            GoTemplate.Parse(AlpacaTemplate).Render(data));
    }

    [Fact]
    public void RealTemplate_TwoSystemMessagesAreJoined()
    {
        // alpaca/gemma collect system messages into $system with printf "%s\n\n%s".
        var data = new TemplateData
        {
            Messages = [new("system", "A"), new("system", "B"), new("user", "Q")],
        };
        Assert.Equal("A\n\nB\n\n### Instruction:\nQ\n\n### Response:\n", GoTemplate.Parse(AlpacaTemplate).Render(data));
        Assert.Equal("<start_of_turn>user\nA\n\nB\nQ<end_of_turn>\n<start_of_turn>model\n",
            GoTemplate.Parse(GemmaInstructTemplate).Render(data));
    }

    [Fact]
    public void RealTemplate_CommandR_WithTools()
    {
        // Ollama's tool structs, modelled as dictionaries; properties are ranged in sorted key order.
        var tool = new Dictionary<string, object?>
        {
            ["Type"] = "function",
            ["Function"] = new Dictionary<string, object?>
            {
                ["Name"] = "get_weather",
                ["Description"] = "Get current weather information for a location",
                ["Parameters"] = new Dictionary<string, object?>
                {
                    ["Type"] = "object",
                    ["Properties"] = new Dictionary<string, object?>
                    {
                        ["unit"] = new Dictionary<string, object?> { ["Type"] = "string", ["Description"] = "The unit of temperature to use" },
                        ["location"] = new Dictionary<string, object?> { ["Type"] = "string", ["Description"] = "The city and state, e.g. San Francisco, CA" },
                    },
                },
            },
        };
        Assert.Equal(CommandRToolsExpected, GoTemplate.Parse(CommandRTemplate).Render(new TemplateData { Tools = [tool] }));
    }

    [Fact]
    public void LegacyTemplate_UsesSystemPromptResponse()
    {
        const string template = "{{ if .System }}<|system|>\n{{ .System }}</s>\n{{ end }}{{ if .Prompt }}<|user|>\n{{ .Prompt }}</s>\n{{ end }}<|assistant|>\n{{ .Response }}</s>";
        var parsed = GoTemplate.Parse(template);
        Assert.False(parsed.UsesMessages);
        Assert.True(parsed.UsesSystem);
        Assert.True(parsed.UsesResponse);
        Assert.False(parsed.UsesTools);
        Assert.False(parsed.UsesSuffix);

        Assert.Equal("<|system|>\nS</s>\n<|user|>\nP</s>\n<|assistant|>\nR</s>",
            parsed.Render(new TemplateData { System = "S", Prompt = "P", Response = "R" }));
        Assert.Equal("<|user|>\nP</s>\n<|assistant|>\n</s>",
            parsed.Render(new TemplateData { Prompt = "P" }));
        Assert.Equal("<|assistant|>\n</s>", parsed.Render(new TemplateData()));
    }

    [Fact]
    public void UsesFlags_FollowOllamaVars()
    {
        var chatml = GoTemplate.Parse(ChatmlTemplate);
        Assert.True(chatml.UsesMessages);
        Assert.False(chatml.UsesSystem);
        Assert.False(chatml.UsesTools);
        Assert.False(chatml.UsesSuffix);

        var commandR = GoTemplate.Parse(CommandRTemplate);
        Assert.True(commandR.UsesMessages);
        Assert.True(commandR.UsesSystem);
        Assert.True(commandR.UsesTools);

        // alpaca only has a variable called $system, which is not .System.
        Assert.False(GoTemplate.Parse(AlpacaTemplate).UsesSystem);

        Assert.True(GoTemplate.Parse("{{ if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{ end }}").UsesSuffix);
        Assert.True(GoTemplate.Parse("{{ range .Messages }}{{ $.Tools }}{{ end }}").UsesTools);
        Assert.True(GoTemplate.Parse("{{ with .Messages }}{{ end }}").UsesMessages);
        Assert.True(GoTemplate.Parse("{{ if and .X (eq $.System \"\") }}{{ end }}").UsesSystem);
        Assert.True(GoTemplate.Parse("{{ .messages }}").UsesMessages); // Ollama compares lower-cased names
        Assert.False(GoTemplate.Parse("{{/* .Messages */}}Messages").UsesMessages);
    }

    // ---- Table tests ----------------------------------------------------------------------------

    [Theory]
    // text, fields, variables
    [InlineData("plain text", "plain text")]
    [InlineData("", "")]
    [InlineData("{{ .System }}", "sys")]
    [InlineData("{{.System}}|{{ .Prompt }}", "sys|hi")]
    [InlineData("{{ $.System }}", "sys")]
    [InlineData("[{{ .Suffix }}][{{ .Response }}]", "[][]")]
    [InlineData("[{{ .Unknown }}]", "[]")]
    [InlineData("[{{ .Unknown.Deeper }}]", "[]")]
    [InlineData("{{ $x := 1 }}{{ $x }}{{ $x = 2 }}{{ $x }}", "12")]
    [InlineData("{{ $x := \"a\" }}{{ range .Messages }}{{ $x = .Content }}{{ end }}{{ $x }}", "b")]
    [InlineData("{{ $x := \"out\" }}{{ range .Messages }}{{ $x := .Content }}{{ $x }}{{ end }}{{ $x }}", "about")]
    [InlineData("{{ $ := 1 }}{{ $ }}", "1")]
    // trim markers: all adjacent white space including newlines, only with the space after/before the dash
    [InlineData("a  \n\t {{- .System }}", "asys")]
    [InlineData("a {{- .System -}} \n\n b", "asysb")]
    [InlineData("a {{ .System }} b", "a sys b")]
    [InlineData("a {{- .System}} b", "asys b")]
    [InlineData("a {{.System -}} b", "a sysb")]
    [InlineData("x {{-3}} y", "x -3 y")]
    [InlineData("x {{ 3 -}}\r\n\ty", "x 3y")]
    [InlineData("{{ if .System }}\n  a\n{{- end }}", "\n  a")]
    [InlineData("{{- /* c */ -}}", "")]
    [InlineData("a\n{{- \"b\" -}}\nc", "abc")]
    // comments
    [InlineData("{{/* comment */}}x", "x")]
    [InlineData("a {{- /* a\nmulti-line comment */ -}} b", "ab")]
    [InlineData("a {{/* c */}} b", "a  b")]
    // if / else if / else and Go truthiness
    [InlineData("{{ if .System }}yes{{ else }}no{{ end }}", "yes")]
    [InlineData("{{ if .Suffix }}yes{{ else }}no{{ end }}", "no")]
    [InlineData("{{ if .Tools }}yes{{ else }}no{{ end }}", "no")]
    [InlineData("{{ if .Messages }}yes{{ end }}", "yes")]
    [InlineData("{{ if 0 }}a{{ else if \"\" }}b{{ else if false }}c{{ else if .Tools }}d{{ else }}e{{ end }}", "e")]
    [InlineData("{{ if 1.5 }}a{{ end }}{{ if 0.0 }}b{{ end }}{{ if -1 }}c{{ end }}{{ if \" \" }}d{{ end }}", "acd")]
    [InlineData("{{ if (slice .Messages 0 0) }}a{{ else }}empty{{ end }}", "empty")]
    [InlineData("{{ if index .Messages 0 }}struct{{ end }}", "struct")]
    [InlineData("{{ if $y := .Suffix }}a{{ else }}[{{ $y }}]b{{ end }}", "[]b")]
    [InlineData("{{ if\n  .System\n}}multi-line action{{ end }}", "multi-line action")]
    // range
    [InlineData("{{ range .Messages }}[{{ .Role }}:{{ .Content }}]{{ end }}", "[user:a][assistant:b]")]
    [InlineData("{{ range $i, $m := .Messages }}{{ $i }}={{ $m.Content }};{{ end }}", "0=a;1=b;")]
    [InlineData("{{ range $m := .Messages }}{{ $m.Role }} {{ end }}", "user assistant ")]
    [InlineData("{{ range $i, $_ := .Messages }}{{ $i }}{{ end }}", "01")]
    [InlineData("{{ range .Tools }}x{{ else }}none{{ end }}", "none")]
    [InlineData("{{ range .Messages }}x{{ else }}none{{ end }}", "xx")]
    [InlineData("{{ range .Messages }}{{ $.System }}{{ end }}", "syssys")]
    [InlineData("{{ range .Messages }}{{ if eq .Role \"user\" }}{{ continue }}{{ end }}{{ .Content }}{{ end }}", "b")]
    [InlineData("{{ range .Messages }}{{ .Content }}{{ break }}{{ end }}", "a")]
    [InlineData("{{ range .Messages }}{{ range $.Messages }}{{ break }}{{ end }}{{ .Role }};{{ end }}", "user;assistant;")]
    [InlineData("{{ range 3 }}{{ . }}{{ end }}", "012")]
    [InlineData("{{ range $i := 0 }}x{{ else }}zero{{ end }}", "zero")]
    [InlineData("{{ $i := 9 }}{{ range $i = .Messages }}{{ end }}{{ $i.Content }}", "b")]
    [InlineData("{{ range .Messages }}{{ $last := .Content }}{{ end }}done", "done")]
    // with
    [InlineData("{{ with .System }}[{{ . }}]{{ end }}", "[sys]")]
    [InlineData("{{ with .Suffix }}[{{ . }}]{{ else }}empty{{ end }}", "empty")]
    [InlineData("{{ with $x := .System }}{{ $x }}{{ . }}{{ end }}", "syssys")]
    [InlineData("{{ with .Suffix }}a{{ else with .System }}{{ . }}{{ end }}", "sys")]
    [InlineData("{{ with index .Messages 1 }}{{ .Role }}{{ end }}", "assistant")]
    // comparison and logic
    [InlineData("{{ eq .System \"x\" \"sys\" }}", "true")]
    [InlineData("{{ eq .System \"x\" \"y\" }}", "false")]
    [InlineData("{{ print nil }} {{ json nil }} {{ printf \"%v\" nil }}", "<nil> null <nil>")]
    [InlineData("{{ ne 1 2 }} {{ ne \"a\" \"a\" }}", "true false")]
    [InlineData("{{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 2.5 }} {{ ge \"b\" \"a\" }}", "true true false true")]
    [InlineData("{{ and 1 0 2 }}|{{ and 1 2 }}|{{ or 0 \"\" \"z\" }}|{{ or 0 false }}", "0|2|z|false")]
    [InlineData("{{ and .Suffix .Unknown.Field }}|{{ or .System (index .Messages 9) }}", "|sys")]
    [InlineData("{{ not .Suffix }} {{ not .System }}", "true false")]
    [InlineData("{{ range .Messages }}{{ if and (eq .Role \"user\") $.System }}U{{ else }}-{{ end }}{{ end }}", "U-")]
    [InlineData("{{ if or (eq .System \"\") (not .Messages) }}a{{ else }}b{{ end }}", "b")]
    // len, index, slice
    [InlineData("{{ len .Messages }} {{ len .System }} {{ len \"héllo\" }}", "2 3 6")]
    [InlineData("{{ (index .Messages 1).Content }}", "b")]
    [InlineData("{{ index \"abc\" 1 }}", "98")]
    [InlineData("{{ slice .System 1 }} {{ slice \"abcdef\" 1 3 }} {{ slice \"abc\" }}", "ys bc abc")]
    [InlineData("{{ len (slice .Messages 1) }} {{ (index (slice .Messages 1 2) 0).Role }}", "1 assistant")]
    [InlineData("{{ $last := index .Messages (len (slice .Messages 1)) }}{{ $last.Content }}", "b")]
    // print, printf, println, pipelines
    [InlineData("{{ printf \"%s-%d-%v-%t\" .System 3 true false }}", "sys-3-true-false")]
    [InlineData("{{ printf \"%q|%5s|%-4s|%03d|%x|%.2f|%%\" \"a\\\"b\" \"r\" \"l\" 7 255 3.14159 }}", "\"a\\\"b\"|    r|l   |007|ff|3.14|%")]
    [InlineData("{{ printf \"%d %s\" \"x\" }}", "%!d(string=x) %!s(MISSING)")]
    [InlineData("{{ printf \"%s\" \"a\" 1 }}", "a%!(EXTRA int=1)")]
    [InlineData("{{ printf \"%s\\n\\n%s\" \"a\" \"b\" }}", "a\n\nb")]
    [InlineData("{{ print \"a\" 1 2 \"b\" true }}", "a1 2btrue")]
    [InlineData("{{ println 1 \"a\" }}", "1 a\n")]
    [InlineData("{{ .System | printf \"<%s>\" }}", "<sys>")]
    [InlineData("{{ .System | len }}", "3")]
    [InlineData("{{ \"x\" | printf \"%s%s\" .System | len }}", "4")]
    [InlineData("{{ .Suffix | or \"default\" }}", "default")]
    [InlineData("{{ .System | }}", "sys")]
    // json
    [InlineData("{{ json .System }}", "\"sys\"")]
    [InlineData("{{ json \"<a&b>\\n\\t\\\"é\" }}", "\"\\u003ca\\u0026b\\u003e\\n\\t\\\"é\"")]
    [InlineData("{{ .Messages | json }}", "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]")]
    [InlineData("{{ json 1 }} {{ json 1.5 }} {{ json true }} {{ json nil }} {{ json .Tools }}", "1 1.5 true null null")]
    [InlineData("{{ json 0.0000001 }} {{ json 1e21 }}", "1e-7 1e+21")]
    // constants
    [InlineData("{{ `raw\\n\"` }}", "raw\\n\"")]
    [InlineData("{{ \"tab\\tx\\u00e9\\x41\" }}", "tab\txéA")]
    [InlineData("{{ 'a' }} {{ '\\n' }} {{ '😀' }}", "97 10 128512")]
    [InlineData("{{ 1.5 }} {{ 1e6 }} {{ 123456.0 }} {{ 0.0001 }} {{ 0.00001 }} {{ -3 }} {{ 0x1F }} {{ 1_000 }}", "1.5 1e+06 123456 0.0001 1e-05 -3 31 1000")]
    [InlineData("{{ true }} {{ false }}", "true false")]
    [InlineData("{{ (.System) }}{{ (index .Messages 0).Role }}", "sysuser")]
    public void Renders(string template, string expected) => Assert.Equal(expected, Render(template));

    // ---- Tools ----------------------------------------------------------------------------------

    private const string ToolsJson = """
        [{"type":"function","function":{"name":"get_weather","description":"Get the weather",
          "parameters":{"type":"object","required":["location"],
            "properties":{"unit":{"type":"string","description":"Unit"},"location":{"type":"string","description":"City"}}}}}]
        """;

    private static TemplateData ToolData() => new()
    {
        Messages = [new("user", "Weather?"), new("assistant", "", [
            new Dictionary<string, object?>
            {
                ["Function"] = new Dictionary<string, object?>
                {
                    ["Name"] = "get_weather",
                    ["Arguments"] = new Dictionary<string, object?> { ["location"] = "Paris" },
                },
            },
        ])],
        Tools = JsonSerializer.Deserialize<List<JsonElement>>(ToolsJson)!.Cast<object>().ToList(),
    };

    [Theory]
    [InlineData("{{ range .Tools }}{{ .function.name }}: {{ .function.description }}{{ end }}", "get_weather: Get the weather")]
    // Ranging over a map visits keys in sorted order, as Go does.
    [InlineData("{{ range $name, $p := (index .Tools 0).function.parameters.properties }}{{ $name }}({{ $p.type }}) {{ end }}", "location(string) unit(string) ")]
    [InlineData("{{ range (index .Tools 0).function.parameters.required }}{{ . }}{{ end }}", "location")]
    [InlineData("{{ len .Tools }} {{ if .Tools }}tools{{ end }}", "1 tools")]
    [InlineData("{{ (index .Tools 0).function.name | json }}", "\"get_weather\"")]
    [InlineData("{{ json (index .Tools 0).function.parameters.properties.unit }}", "{\"type\":\"string\",\"description\":\"Unit\"}")]
    [InlineData("{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Name }}{{ .Function.Arguments }}{{ end }}{{ end }}", "get_weather{\"location\":\"Paris\"}")]
    [InlineData("{{ range .Messages }}{{ if .ToolCalls }}{{ .Role }}{{ end }}{{ end }}", "assistant")]
    [InlineData("{{ index (index .Tools 0).function \"name\" }}", "get_weather")]
    public void Tools_AreMapsAndLists(string template, string expected) =>
        Assert.Equal(expected, GoTemplate.Parse(template).Render(ToolData()));

    [Fact]
    public void Json_OfTools_KeepsMemberOrder()
    {
        string json = GoTemplate.Parse("{{ json .Tools }}").Render(ToolData());
        Assert.Equal(
            "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Get the weather\"," +
            "\"parameters\":{\"type\":\"object\",\"required\":[\"location\"],\"properties\":{\"unit\":{\"type\":\"string\",\"description\":\"Unit\"}," +
            "\"location\":{\"type\":\"string\",\"description\":\"City\"}}}}}]",
            json);
        Assert.Equal(json, GoTemplate.Parse("{{ .Tools }}").Render(ToolData()));
    }

    // ---- Dates ----------------------------------------------------------------------------------

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }

    [Fact]
    public void CurrentDate_UsesTheClock()
    {
        var time = new FixedTime(new DateTimeOffset(2025, 3, 1, 10, 0, 0, TimeSpan.Zero));
        Assert.Equal("2025-03-01 2025-02-28 2025-03-01",
            GoTemplate.Parse("{{ currentDate }} {{ yesterdayDate }} {{ currentDate \"2006-01-02\" }}").Render(new TemplateData(), time));
    }

    // ---- Errors ---------------------------------------------------------------------------------

    [Theory]
    [InlineData("{{ .System", "unclosed action")]
    [InlineData("{{ .System }", "unclosed action")]
    [InlineData("a {{", "unclosed action")]
    [InlineData("{{ foo }}", "function \"foo\" not defined")]
    [InlineData("{{ .X | foo }}", "function \"foo\" not defined")]
    [InlineData("{{ end }}", "unexpected {{end}}")]
    [InlineData("{{ if .X }}a{{ end }}{{ end }}", "unexpected {{end}}")]
    [InlineData("{{ else }}", "unexpected {{else}}")]
    [InlineData("{{ if .X }}a", "unexpected EOF")]
    [InlineData("{{ range .X }}a{{ else }}b{{ else }}c{{ end }}", "expected end; found {{else}}")]
    [InlineData("{{ $x }}", "undefined variable \"$x\"")]
    [InlineData("{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}", "undefined variable \"$x\"")]
    [InlineData("{{ break }}", "{{break}} outside {{range}}")]
    [InlineData("{{ range .X }}{{ else }}{{ continue }}{{ end }}", "{{continue}} outside {{range}}")]
    [InlineData("{{/* x }}", "unclosed comment")]
    [InlineData("{{/* x */ .X }}", "comment ends before closing delimiter")]
    [InlineData("{{ \"abc }}", "unterminated quoted string")]
    [InlineData("{{ `abc }}", "unterminated raw quoted string")]
    [InlineData("{{ \"\\q\" }}", "invalid syntax in quoted string")]
    [InlineData("{{ template \"x\" }}", "{{template}} is not supported")]
    [InlineData("{{ define \"x\" }}{{ end }}", "{{define}} is not supported")]
    [InlineData("{{ }}", "missing value for command")]
    [InlineData("{{ if }}{{ end }}", "missing value for if")]
    [InlineData("{{ (.X }}", "unclosed left paren")]
    [InlineData("{{ .X) }}", "unexpected right paren")]
    [InlineData("{{ .X | \"a\" }}", "non executable command in pipeline stage 2")]
    [InlineData("{{ $x, $y := .X }}", "too many declarations in command")]
    [InlineData("{{ 3x }}", "bad number syntax: \"3x\"")]
    [InlineData("{{ 'ab' }}", "malformed character constant: 'ab'")]
    [InlineData("{{ \"a\".Foo }}", "unexpected . after term \"\\\"a\\\"\"")]
    [InlineData("{{ .X # }}", "unexpected \"#\" in operand")]
    [InlineData("{{ end x }}", "unexpected \"x\" in end")]
    public void Parse_RejectsBadSyntax(string template, string reason)
    {
        var e = Assert.Throws<TemplateParseException>(() => GoTemplate.Parse(template));
        Assert.Equal(reason, e.Reason);
    }

    [Fact]
    public void Parse_LimitsNesting()
    {
        string deep = "{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}";
        Assert.Equal("max expression depth exceeded", Assert.Throws<TemplateParseException>(() => GoTemplate.Parse(deep)).Reason);
        string nested = string.Concat(Enumerable.Repeat("{{ if 1 }}", 5000)) + string.Concat(Enumerable.Repeat("{{ end }}", 5000));
        Assert.Equal("max expression depth exceeded", Assert.Throws<TemplateParseException>(() => GoTemplate.Parse(nested)).Reason);
        string ok = "{{ " + new string('(', 100) + "1" + new string(')', 100) + " }}";
        Assert.Equal("1", GoTemplate.Parse(ok).Render(new TemplateData()));
    }

    [Fact]
    public void ParseError_ReportsLineAndColumn()
    {
        var e = Assert.Throws<TemplateParseException>(() => GoTemplate.Parse("line one\nab {{ foo }}"));
        Assert.Equal(2, e.Line);
        Assert.Equal(7, e.Column);
        Assert.Equal("template: 2:7: function \"foo\" not defined", e.Message);
    }

    [Theory]
    [InlineData("{{ .System.Foo }}", "can't evaluate field Foo in type string")]
    [InlineData("{{ range .Messages }}{{ .Role.Name }}{{ end }}", "can't evaluate field Name in type string")]
    [InlineData("{{ $x := 1 }}{{ $x.Field }}", "can't evaluate field Field in type int")]
    [InlineData("{{ .Messages.Role }}", "can't evaluate field Role in type []interface {}")]
    [InlineData("{{ index .Messages 5 }}", "error calling index: index out of range: 5")]
    [InlineData("{{ index .System \"a\" }}", "error calling index: cannot index slice/array with type string")]
    [InlineData("{{ slice .System 2 1 }}", "error calling slice: invalid slice index: 2 > 1")]
    [InlineData("{{ eq 1 \"a\" }}", "error calling eq: incompatible types for comparison")]
    [InlineData("{{ eq 1 1.0 }}", "error calling eq: incompatible types for comparison")]
    [InlineData("{{ lt true false }}", "error calling lt: invalid type for comparison")]
    [InlineData("{{ len .Tools }}", "error calling len: len of nil pointer")]
    [InlineData("{{ len 3 }}", "error calling len: len of type int")]
    [InlineData("{{ printf 3 }}", "error calling printf: wrong type for value; expected string; got int")]
    [InlineData("{{ not }}", "wrong number of args for not: want 1 got 0")]
    [InlineData("{{ and }}", "wrong number of args for and: want at least 1 got 0")]
    [InlineData("{{ ne 1 2 3 }}", "wrong number of args for ne: want 2 got 3")]
    [InlineData("{{ .System 1 }}", "System is not a method but has arguments")]
    [InlineData("{{ .Prompt | .System }}", "System is not a method but has arguments")]
    [InlineData("{{ \"a\" 1 }}", "can't give argument to non-function \"a\"")]
    [InlineData("{{ nil }}", "nil is not a command")]
    [InlineData("{{ if nil }}{{ end }}", "nil is not a command")]
    [InlineData("{{ eq .Suffix nil }}", "cannot assign nil to reflect.Value")]
    [InlineData("{{ or 1 nil }}|{{ or 0 nil }}", "cannot assign nil to reflect.Value")]
    [InlineData("{{ printf nil }}", "cannot assign nil to string")]
    [InlineData("{{ (print \"x\").Foo }}", "can't evaluate field Foo in type string")]
    [InlineData("{{ . | len }}", "error calling len: len of type TemplateData")]
    [InlineData("{{ range .System }}{{ end }}", "range can't iterate over sys")]
    [InlineData("{{ range $i, $x := 3 }}{{ end }}", "can't use 3 to iterate over more than one variable")]
    public void Render_ReportsRuntimeErrors(string template, string reason)
    {
        var parsed = GoTemplate.Parse(template);
        var e = Assert.Throws<TemplateRenderException>(() => parsed.Render(Data));
        Assert.Equal(reason, e.Reason);
    }

    [Fact]
    public void RenderError_ReportsPosition()
    {
        var parsed = GoTemplate.Parse("{{ range .Messages }}\n  {{ .Role.Name }}{{ end }}");
        var e = Assert.Throws<TemplateRenderException>(() => parsed.Render(Data));
        Assert.Equal((2, 6), (e.Line, e.Column));
    }

    // ---- Template sources and Go's output (copied from ollama/ollama) ----------------------------

    // ollama/ollama template/llama3-instruct.gotmpl
    private const string Llama3InstructTemplate =
        "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n" +
        "\n" +
        "{{ .Content }}<|eot_id|>\n" +
        "{{- end }}<|start_header_id|>assistant<|end_header_id|>\n" +
        "\n";

    // ollama/ollama template/testdata/llama3-instruct.gotmpl/system-user-assistant-user
    private const string Llama3InstructExpected =
        "<|start_header_id|>system<|end_header_id|>\n" +
        "\n" +
        "You are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
        "\n" +
        "Hello, how are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
        "\n" +
        "I'm doing great. How can I help you today?<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
        "\n" +
        "I'd like to show off how chat templating works!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
        "\n";

    // ollama/ollama template/chatml.gotmpl
    private const string ChatmlTemplate =
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n" +
        "{{ .Content }}<|im_end|>\n" +
        "{{ end }}<|im_start|>assistant\n";

    // ollama/ollama template/testdata/chatml.gotmpl/system-user-assistant-user
    private const string ChatmlExpected =
        "<|im_start|>system\n" +
        "You are a helpful assistant.<|im_end|>\n" +
        "<|im_start|>user\n" +
        "Hello, how are you?<|im_end|>\n" +
        "<|im_start|>assistant\n" +
        "I'm doing great. How can I help you today?<|im_end|>\n" +
        "<|im_start|>user\n" +
        "I'd like to show off how chat templating works!<|im_end|>\n" +
        "<|im_start|>assistant\n";

    // ollama/ollama template/mistral-instruct.gotmpl
    private const string MistralInstructTemplate =
        "[INST] {{ range $index, $_ := .Messages }}\n" +
        "{{- if eq .Role \"system\" }}{{ .Content }}\n" +
        "\n" +
        "{{ else if eq .Role \"user\" }}{{ .Content }}[/INST]\n" +
        "{{- else if eq .Role \"assistant\" }} {{ .Content }}</s>[INST] {{ end }}\n" +
        "{{- end }}";

    // ollama/ollama template/testdata/mistral-instruct.gotmpl/system-user-assistant-user
    private const string MistralInstructExpected =
        "[INST] You are a helpful assistant.\n" +
        "\n" +
        "Hello, how are you?[/INST] I'm doing great. How can I help you today?</s>[INST] I'd like to show off how chat templating works![/INST]";

    // ollama/ollama template/alpaca.gotmpl
    private const string AlpacaTemplate =
        "{{- $system := \"\" }}\n" +
        "{{- range .Messages }}\n" +
        "{{- if eq .Role \"system\" }}\n" +
        "{{- if not $system }}{{ $system = .Content }}\n" +
        "{{- else }}{{ $system = printf \"%s\\n\\n%s\" $system .Content }}\n" +
        "{{- end }}\n" +
        "{{- else if eq .Role \"user\" }}\n" +
        "{{- if $system }}{{ $system }}\n" +
        "\n" +
        "{{ $system = \"\" }}\n" +
        "{{- end }}### Instruction:\n" +
        "{{ .Content }}\n" +
        "\n" +
        "{{ else if eq .Role \"assistant\" }}### Response:\n" +
        "{{ .Content }}\n" +
        "\n" +
        "{{ end }}\n" +
        "{{- end }}### Response:\n";

    // ollama/ollama template/testdata/alpaca.gotmpl/system-user-assistant-user
    private const string AlpacaExpected =
        "You are a helpful assistant.\n" +
        "\n" +
        "### Instruction:\n" +
        "Hello, how are you?\n" +
        "\n" +
        "### Response:\n" +
        "I'm doing great. How can I help you today?\n" +
        "\n" +
        "### Instruction:\n" +
        "I'd like to show off how chat templating works!\n" +
        "\n" +
        "### Response:\n";

    // ollama/ollama template/zephyr.gotmpl
    private const string ZephyrTemplate =
        "{{- range .Messages }}<|{{ .Role }}|>\n" +
        "{{ .Content }}</s>\n" +
        "{{ end }}<|assistant|>\n";

    // ollama/ollama template/testdata/zephyr.gotmpl/system-user-assistant-user
    private const string ZephyrExpected =
        "<|system|>\n" +
        "You are a helpful assistant.</s>\n" +
        "<|user|>\n" +
        "Hello, how are you?</s>\n" +
        "<|assistant|>\n" +
        "I'm doing great. How can I help you today?</s>\n" +
        "<|user|>\n" +
        "I'd like to show off how chat templating works!</s>\n" +
        "<|assistant|>\n";

    // ollama/ollama template/codellama-70b-instruct.gotmpl
    private const string Codellama70bInstructTemplate =
        "{{- range .Messages }}Source:\n" +
        "{{- if eq .Role \"system\" }} system\n" +
        "{{- else if eq .Role \"user\" }} user\n" +
        "{{- else if eq .Role \"assistant\" }} assistant\n" +
        "{{- end }}\n" +
        "\n" +
        " {{ .Content }} <step> {{ end }}Source: assistant\n" +
        "Destination: user\n" +
        "\n" +
        " ";

    // ollama/ollama template/testdata/codellama-70b-instruct.gotmpl/system-user-assistant-user
    private const string Codellama70bInstructExpected =
        "Source: system\n" +
        "\n" +
        " You are a helpful assistant. <step> Source: user\n" +
        "\n" +
        " Hello, how are you? <step> Source: assistant\n" +
        "\n" +
        " I'm doing great. How can I help you today? <step> Source: user\n" +
        "\n" +
        " I'd like to show off how chat templating works! <step> Source: assistant\n" +
        "Destination: user\n" +
        "\n" +
        " ";

    // ollama/ollama template/gemma-instruct.gotmpl
    private const string GemmaInstructTemplate =
        "{{- $system := \"\" }}\n" +
        "{{- range .Messages }}\n" +
        "{{- if eq .Role \"system\" }}\n" +
        "{{- if not $system }}{{ $system = .Content }}\n" +
        "{{- else }}{{ $system = printf \"%s\\n\\n%s\" $system .Content }}\n" +
        "{{- end }}\n" +
        "{{- continue }}\n" +
        "{{- else if eq .Role \"user\" }}<start_of_turn>user\n" +
        "{{- if $system }}\n" +
        "{{ $system }}\n" +
        "{{- $system = \"\" }}\n" +
        "{{- end }}\n" +
        "{{- else if eq .Role \"assistant\" }}<start_of_turn>model\n" +
        "{{- end }}\n" +
        "{{ .Content }}<end_of_turn>\n" +
        "{{ end }}<start_of_turn>model\n";

    // ollama/ollama template/testdata/gemma-instruct.gotmpl/system-user-assistant-user
    private const string GemmaInstructExpected =
        "<start_of_turn>user\n" +
        "You are a helpful assistant.\n" +
        "Hello, how are you?<end_of_turn>\n" +
        "<start_of_turn>model\n" +
        "I'm doing great. How can I help you today?<end_of_turn>\n" +
        "<start_of_turn>user\n" +
        "I'd like to show off how chat templating works!<end_of_turn>\n" +
        "<start_of_turn>model\n";

    // ollama/ollama template/phi-3.gotmpl
    private const string Phi3Template =
        "{{- range .Messages }}<|{{ .Role }}|>\n" +
        "{{ .Content }}<|end|>\n" +
        "{{ end }}<|assistant|>\n";

    // ollama/ollama template/testdata/phi-3.gotmpl/system-user-assistant-user
    private const string Phi3Expected =
        "<|system|>\n" +
        "You are a helpful assistant.<|end|>\n" +
        "<|user|>\n" +
        "Hello, how are you?<|end|>\n" +
        "<|assistant|>\n" +
        "I'm doing great. How can I help you today?<|end|>\n" +
        "<|user|>\n" +
        "I'd like to show off how chat templating works!<|end|>\n" +
        "<|assistant|>\n";

    // ollama/ollama template/llama2-chat.gotmpl
    private const string Llama2ChatTemplate =
        "{{- $system := \"\" }}[INST] {{ range .Messages }}\n" +
        "{{- if eq .Role \"system\" }}\n" +
        "{{- if not $system }}{{ $system = .Content }}\n" +
        "{{- else }}{{ $system = printf \"%s\\n\\n%s\" $system .Content }}\n" +
        "{{- end }}\n" +
        "{{- else if eq .Role \"user\" }}<<SYS>>\n" +
        "{{- if $system }}\n" +
        "{{ $system }}\n" +
        "{{ $system = \"\" }}\n" +
        "{{- end }}<</SYS>>\n" +
        "\n" +
        "{{ .Content }} [/INST]\n" +
        "{{- else if eq .Role \"assistant\" }} {{ .Content }}</s><s>[INST] {{ end }}\n" +
        "{{- end }}";

    // ollama/ollama template/testdata/llama2-chat.gotmpl/system-user-assistant-user
    private const string Llama2ChatExpected =
        "[INST] <<SYS>>\n" +
        "You are a helpful assistant.\n" +
        "<</SYS>>\n" +
        "\n" +
        "Hello, how are you? [/INST] I'm doing great. How can I help you today?</s><s>[INST] <<SYS>><</SYS>>\n" +
        "\n" +
        "I'd like to show off how chat templating works! [/INST]";

    // ollama/ollama template/vicuna.gotmpl
    private const string VicunaTemplate =
        "{{- $system := \"\" }}\n" +
        "{{- range .Messages }}\n" +
        "{{- if eq .Role \"system\" }}\n" +
        "{{- if not $system }}{{ $system = .Content }}\n" +
        "{{- else }}{{ $system = printf \"%s\\n\\n%s\" $system .Content }}\n" +
        "{{- end }}\n" +
        "{{- else if eq .Role \"user\" }}\n" +
        "{{- if $system }}{{ $system }}\n" +
        "\n" +
        "{{ $system = \"\" }}\n" +
        "{{- end }}USER: {{ .Content }}\n" +
        "{{ else if eq .Role \"assistant\" }}ASSISTANT: {{ .Content }}</s>\n" +
        "{{ end }}\n" +
        "{{- end }}ASSISTANT:";

    // ollama/ollama template/testdata/vicuna.gotmpl/system-user-assistant-user
    private const string VicunaExpected =
        "You are a helpful assistant.\n" +
        "\n" +
        "USER: Hello, how are you?\n" +
        "ASSISTANT: I'm doing great. How can I help you today?</s>\n" +
        "USER: I'd like to show off how chat templating works!\n" +
        "ASSISTANT:";

    // ollama/ollama template/command-r.gotmpl
    private const string CommandRTemplate =
        "{{- if or .Tools .System }}<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>\n" +
        "{{- if .Tools }}# Safety Preamble\n" +
        "The instructions in this section override those in the task description and style guide sections. Don't answer questions that are harmful or immoral.\n" +
        "\n" +
        "# System Preamble\n" +
        "## Basic Rules\n" +
        "You are a powerful conversational AI trained by Cohere to help people. You are augmented by a number of tools, and your job is to use and consume the output of these tools to best help the user. You will see a conversation history between yourself and a user, ending with an utterance from the user. You will then see a specific instruction instructing you what kind of response to generate. When you answer the user's requests, you cite your sources in your answers, according to those instructions.\n" +
        "\n" +
        "{{ if .System }}# User Preamble\n" +
        "{{ .System }}\n" +
        "{{- end }}\n" +
        "\n" +
        "## Available Tools\n" +
        "Here is a list of tools that you have available to you:\n" +
        "{{- range .Tools }}\n" +
        "\n" +
        "```python\n" +
        "def {{ .Function.Name }}(\n" +
        "{{- range $name, $property := .Function.Parameters.Properties }}{{ $name }}: {{ $property.Type }}, {{ end }}) -> List[Dict]:\n" +
        "    '''{{ .Function.Description }}\n" +
        "\n" +
        "{{- if .Function.Parameters.Properties }}\n" +
        "\n" +
        "    Args:\n" +
        "{{- range $name, $property := .Function.Parameters.Properties }}\n" +
        "        {{ $name }} ({{ $property.Type }}): {{ $property.Description }}\n" +
        "{{- end }}\n" +
        "{{- end }}\n" +
        "    '''\n" +
        "    pass\n" +
        "```\n" +
        "{{- end }}\n" +
        "{{- else if .System }}{{ .System }}\n" +
        "{{- end }}<|END_OF_TURN_TOKEN|>\n" +
        "{{- end }}\n" +
        "{{- range .Messages }}\n" +
        "{{- if eq .Role \"system\" }}\n" +
        "{{- continue }}\n" +
        "{{- end }}<|START_OF_TURN_TOKEN|>\n" +
        "{{- if eq .Role \"user\" }}<|USER_TOKEN|>{{ .Content }}\n" +
        "{{- if $.Tools }}<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>Write 'Action:' followed by a json-formatted list of actions that you want to perform in order to produce a good response to the user's last input. You can use any of the supplied tools any number of times, but you should aim to execute the minimum number of necessary actions for the input. You should use the `directly-answer` tool if calling the other tools is unnecessary. The list of actions you want to call should be formatted as a list of json objects, for example:\n" +
        "```json\n" +
        "[\n" +
        "    {\n" +
        "        \"tool_name\": title of the tool in the specification,\n" +
        "        \"parameters\": a dict of parameters to input into the tool as they are defined in the specs, or {} if it takes no parameters\n" +
        "    }\n" +
        "]```\n" +
        "{{- end }}\n" +
        "{{- else if eq .Role \"assistant\" }}<|CHATBOT_TOKEN|>\n" +
        "{{- if .Content }}{{ .Content }}\n" +
        "{{- else if .ToolCalls }}\n" +
        "Action: ```json\n" +
        "[\n" +
        "{{- range .ToolCalls }}\n" +
        "    {\n" +
        "        \"tool_name\": \"{{ .Function.Name }}\",\n" +
        "        \"parameters\": {{ .Function.Arguments }}\n" +
        "    }\n" +
        "{{- end }}\n" +
        "]```\n" +
        "{{- end }}\n" +
        "{{- else if eq .Role \"tool\" }}<|SYSTEM_TOKEN|><results>\n" +
        "console_output: {{ .Content }}\n" +
        "</results>\n" +
        "{{- end }}<|END_OF_TURN_TOKEN|>\n" +
        "{{- end }}<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>\n";

    // ollama/ollama template/testdata/command-r.gotmpl/system-user-assistant-user
    private const string CommandRExpected =
        "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful assistant.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello, how are you?<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>I'm doing great. How can I help you today?<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>I'd like to show off how chat templating works!<|END_OF_TURN_TOKEN|><|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>\n";

    // ollama/ollama template/testdata/command-r.gotmpl/tools-single (commit 79935898)
    private const string CommandRToolsExpected =
        "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|># Safety Preamble\n" +
        "The instructions in this section override those in the task description and style guide sections. Don't answer questions that are harmful or immoral.\n" +
        "\n" +
        "# System Preamble\n" +
        "## Basic Rules\n" +
        "You are a powerful conversational AI trained by Cohere to help people. You are augmented by a number of tools, and your job is to use and consume the output of these tools to best help the user. You will see a conversation history between yourself and a user, ending with an utterance from the user. You will then see a specific instruction instructing you what kind of response to generate. When you answer the user's requests, you cite your sources in your answers, according to those instructions.\n" +
        "\n" +
        "\n" +
        "\n" +
        "## Available Tools\n" +
        "Here is a list of tools that you have available to you:\n" +
        "\n" +
        "```python\n" +
        "def get_weather(location: string, unit: string, ) -> List[Dict]:\n" +
        "    '''Get current weather information for a location\n" +
        "\n" +
        "    Args:\n" +
        "        location (string): The city and state, e.g. San Francisco, CA\n" +
        "        unit (string): The unit of temperature to use\n" +
        "    '''\n" +
        "    pass\n" +
        "```<|END_OF_TURN_TOKEN|><|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>\n";
}
