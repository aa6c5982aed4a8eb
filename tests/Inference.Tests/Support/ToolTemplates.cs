using System.Text.Json;
using Inference.Engine.Tools;

namespace Inference.Tests.Support;

/// <summary>Tools-aware Go templates in the two common styles, and tool definitions, for the tool-calling tests.</summary>
public static class ToolTemplates
{
    /// <summary>
    /// Qwen 2.5 style (as in Ollama's library): tools listed in the system turn, calls wrapped in
    /// &lt;tool_call&gt; tags, results sent back as a user turn in &lt;tool_response&gt; tags.
    /// </summary>
    public const string Qwen = """
        {{- if .Messages }}
        {{- if or .System .Tools }}<|im_start|>system
        {{- if .System }}
        {{ .System }}
        {{- end }}
        {{- if .Tools }}

        # Tools

        You may call functions. Their signatures:
        <tools>
        {{- range .Tools }}
        {"type": "function", "function": {{ .Function }}}
        {{- end }}
        </tools>

        Call a function as:
        <tool_call>
        {"name": <function-name>, "arguments": <args-json-object>}
        </tool_call>
        {{- end }}<|im_end|>
        {{ end }}
        {{- range $i, $_ := .Messages }}
        {{- $last := eq (len (slice $.Messages $i)) 1 -}}
        {{- if eq .Role "user" }}<|im_start|>user
        {{ .Content }}<|im_end|>
        {{ else if eq .Role "assistant" }}<|im_start|>assistant
        {{ if .Content }}{{ .Content }}
        {{- else if .ToolCalls }}<tool_call>
        {{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}
        {{ end }}</tool_call>
        {{- end }}{{ if not $last }}<|im_end|>
        {{ end }}
        {{- else if eq .Role "tool" }}<|im_start|>user
        <tool_response name="{{ .ToolName }}">
        {{ .Content }}
        </tool_response><|im_end|>
        {{ end }}
        {{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
        {{ end }}
        {{- end }}
        {{- else }}
        {{- if .System }}<|im_start|>system
        {{ .System }}<|im_end|>
        {{ end }}{{ if .Prompt }}<|im_start|>user
        {{ .Prompt }}<|im_end|>
        {{ end }}<|im_start|>assistant
        {{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }}
        """;

    /// <summary>
    /// Llama 3.1 style: tools printed as JSON into the last user turn, calls as bare JSON objects with
    /// "parameters", results in an "ipython" turn.
    /// </summary>
    public const string Llama = """
        {{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>
        {{- if .System }}

        {{ .System }}
        {{- end }}
        {{- if .Tools }}

        You are a helpful assistant with tool calling capabilities.
        {{- end }}<|eot_id|>
        {{- end }}
        {{- range $i, $_ := .Messages }}
        {{- $last := eq (len (slice $.Messages $i)) 1 }}
        {{- if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>
        {{- if and $.Tools $last }}

        Respond with a JSON function call: {"name": function name, "parameters": dictionary of arguments}.

        {{ range $.Tools }}
        {{- . }}
        {{ end }}
        Question: {{ .Content }}<|eot_id|>
        {{- else }}

        {{ .Content }}<|eot_id|>
        {{- end }}{{ if $last }}<|start_header_id|>assistant<|end_header_id|>

        {{ end }}
        {{- else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>
        {{- if .ToolCalls }}
        {{ range .ToolCalls }}
        {"name": "{{ .Function.Name }}", "parameters": {{ .Function.Arguments }}}{{ end }}
        {{- else }}

        {{ .Content }}
        {{- end }}{{ if not $last }}<|eot_id|>{{ end }}
        {{- else if eq .Role "tool" }}<|start_header_id|>ipython<|end_header_id|>

        {{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>

        {{ end }}
        {{- end }}
        {{- end }}
        """;

    /// <summary>get_weather (a city, bounded so tiny models finish it, and a unit enum) and add (two integers).</summary>
    public const string ToolsJson = """
        [
          {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
            "parameters": {"type": "object", "required": ["city"],
              "properties": {"city": {"type": "string", "maxLength": 16, "description": "City name"},
                             "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}},
          {"type": "function", "function": {"name": "add", "description": "Add two integers",
            "parameters": {"type": "object", "required": ["a", "b"],
              "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}}
        ]
        """;

    public static JsonElement ToolsElement() => JsonDocument.Parse(ToolsJson).RootElement;

    public static IReadOnlyList<ToolDefinition> Definitions()
    {
        Assert.True(ToolDefinition.TryParseList(ToolsElement(), out var tools, out var error), error?.Message);
        return tools;
    }

    /// <summary>The parameters schema of one of <see cref="ToolsJson"/>'s functions, to validate generated arguments.</summary>
    public static JsonElement Schema(string function) => Definitions().Single(t => t.Name == function).Parameters!.Value;

    private static readonly SemaphoreSlim CreateOnce = new(1, 1);
    private static readonly HashSet<string> Created = [];

    /// <summary>
    /// Creates, once per server, "qwen-tools" (stories260K with <see cref="Qwen"/>) and "llama-tools" (the random
    /// tiny llama with <see cref="Llama"/>): the test GGUFs' own templates know nothing of tools.
    /// </summary>
    public static async Task CreateModelsAsync(TestServer server)
    {
        await CreateOnce.WaitAsync();
        try
        {
            if (!Created.Add(server.BaseUrl)) return;
            foreach (var (name, from, template) in new[] { ("qwen-tools", "stories", Qwen), ("llama-tools", "tiny", Llama) })
            {
                var (status, r) = await server.PostAsync("/api/create", new { model = name, from, template, stream = false });
                Assert.True(status == 200, r?.ToJsonString());
            }
        }
        finally
        {
            CreateOnce.Release();
        }
    }
}
