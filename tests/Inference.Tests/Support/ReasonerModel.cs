namespace Inference.Tests.Support;

/// <summary>
/// "reasoner": stories260K with a template whose reasoning tags are "&lt;think&gt;" and "the" and whose prompt opens
/// the reasoning when thinking is on. The model, which writes simple English, then thinks up to the first "the" it
/// writes and answers after it, so reasoning and text both come out of a real generation, on routes that take no
/// grammar to force them (/v1/messages, /v1/responses).
/// </summary>
public static class ReasonerModel
{
    public const string Name = "reasoner";

    // An assistant turn's reasoning goes back into the prompt inside the same tags.
    private const string Template = """
        {{- range .Messages }}
        {{- if eq .Role "user" }}U: {{ .Content }}
        {{ else if eq .Role "assistant" }}A: {{ if .Thinking }}<think>{{ .Thinking }}the{{ end }}{{ .Content }}
        {{ end }}
        {{- end }}A:{{ if .Think }}<think>{{ end }}
        """;

    private static readonly SemaphoreSlim CreateOnce = new(1, 1);
    private static readonly HashSet<string> Created = [];

    public static async Task CreateAsync(TestServer server)
    {
        await CreateOnce.WaitAsync();
        try
        {
            if (!Created.Add(server.BaseUrl)) return;
            var (status, r) = await server.PostAsync("/api/create", new { model = Name, from = "stories", template = Template, stream = false });
            Assert.True(status == 200, r?.ToJsonString());
        }
        finally
        {
            CreateOnce.Release();
        }
    }
}
