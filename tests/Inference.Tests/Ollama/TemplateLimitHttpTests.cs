using System.Diagnostics;
using Inference.Engine.Prompting;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// Hostile Go templates through HTTP: refused at create time where the parser can tell, otherwise a
/// 400 naming the limit when a request renders them, quickly, with no memory kept, and the server
/// goes on serving. (A range of 100000000 used to take 22 s and 1.9 GB; larger ones ended in a 500
/// with 6 GB kept.)
/// </summary>
[Collection("server")]
public sealed class TemplateLimitHttpTests(SharedServer server)
{
    private async Task CreateAsync(string name, string template)
    {
        var (status, r) = await server.PostAsync("/api/create", new { model = name, from = "stories", template, stream = false });
        Assert.True(status == 200, r?.ToJsonString());
    }

    private async Task<(int Status, string Error, TimeSpan Elapsed)> GenerateAsync(object body)
    {
        var started = Stopwatch.GetTimestamp();
        var (status, r) = await server.PostAsync("/api/generate", body);
        return (status, (string?)r?["error"] ?? "", Stopwatch.GetElapsedTime(started));
    }

    private async Task AssertServingAsync()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, status);
        Assert.Equal(3, (int)r!["eval_count"]!);
    }

    [Fact]
    public async Task A_template_that_always_passes_the_iteration_limit_is_refused_at_create()
    {
        var (status, r) = await server.PostAsync("/api/create",
            new { model = "hostile-range", from = "stories", template = "{{ range 100000000 }}x{{ end }}{{ .Prompt }}", stream = false });
        Assert.Equal(400, status);
        Assert.Equal("invalid template: template: 1:10: range over 100000000 would exceed the limit of 1000000 iterations per render", (string)r!["error"]!);
        Assert.Equal(404, (await server.PostAsync("/api/show", new { model = "hostile-range" })).Status);

        // range 1e12 (a float, which no render can iterate over) used to end in a 500 with 6 GB kept.
        (status, r) = await server.PostAsync("/api/create",
            new { model = "hostile-float", from = "stories", template = "{{ range 1e12 }}x{{ end }}{{ .Prompt }}", stream = false });
        Assert.Equal(400, status);
        Assert.Equal("invalid template: template: 1:10: range can't iterate over 1e12", (string)r!["error"]!);
        Assert.Equal(404, (await server.PostAsync("/api/show", new { model = "hostile-float" })).Status);
        // The same template sent with a request is refused before anything renders.
        var (_, error, elapsed) = await GenerateAsync(new { model = "stories", prompt = "Once", stream = false, template = "{{ range 1e12 }}x{{ end }}{{ .Prompt }}" });
        Assert.Equal("invalid template: template: 1:10: range can't iterate over 1e12", error);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
        await AssertServingAsync();
    }

    [Fact]
    public async Task Iterations_the_parser_cannot_see_stop_the_render_with_a_400_and_keep_no_memory()
    {
        await CreateAsync("hostile-loop", "{{ $n := 1000000000000 }}{{ range $n }}{{ end }}{{ .Prompt }}");
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var (status, error, elapsed) = await GenerateAsync(new { model = "hostile-loop", prompt = "Once", stream = false });
        Assert.Equal(400, status);
        Assert.Equal("template limit: template: 1:29: range iterations exceed the limit of 1000000 per render", error);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(after - before < 64L << 20, $"{(after - before) >> 20} MiB kept");

        // The same template sent with the request.
        (status, error, _) = await GenerateAsync(new { model = "stories", prompt = "Once", stream = false,
            template = "{{ $n := 1000000000000 }}{{ range $n }}{{ end }}{{ .Prompt }}" });
        Assert.Equal(400, status);
        Assert.Equal("template limit: template: 1:29: range iterations exceed the limit of 1000000 per render", error);
        // And through chat.
        var (chatStatus, chat) = await server.PostAsync("/api/chat",
            new { model = "hostile-loop", messages = new[] { new { role = "user", content = "hi" } }, stream = false });
        Assert.Equal(400, chatStatus);
        Assert.StartsWith("template limit: ", (string)chat!["error"]!);
        await AssertServingAsync();
    }

    [Fact]
    public async Task A_value_that_grows_without_being_written_is_bounded()
    {
        await CreateAsync("hostile-growth", "{{ $x := \"ab\" }}{{ range 60 }}{{ $x = print $x $x }}{{ end }}{{ .Prompt }}");
        var (status, error, elapsed) = await GenerateAsync(new { model = "hostile-growth", prompt = "Once", stream = false });
        Assert.Equal(400, status);
        Assert.Equal($"template limit: template: 1:39: print built a value longer than {TemplateLimits.MaxOutputChars} characters", error);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
        await AssertServingAsync();
    }

    [Fact]
    public async Task A_slow_render_stops_at_the_time_limit()
    {
        await CreateAsync("hostile-slow", "{{ $x := printf \"%0999999d\" 0 }}{{ range 900000 }}{{ $y := len $x }}{{ end }}{{ .Prompt }}");
        var (status, error, elapsed) = await GenerateAsync(new { model = "hostile-slow", prompt = "Once", stream = false });
        Assert.Equal(400, status);
        Assert.Matches(@"^template limit: template: 1:\d+: rendering took longer than 2 s$", error);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        await AssertServingAsync();
    }

    [Fact]
    public async Task Output_longer_than_the_context_can_hold_is_refused_as_too_long()
    {
        // 1,000,000 characters: far more than stories' 2048 tokens x 9 bytes; rendering stops at 18432.
        await CreateAsync("hostile-output", "{{ range 500000 }}xx{{ end }}{{ .Prompt }}");
        var (status, error, elapsed) = await GenerateAsync(new { model = "hostile-output", prompt = "Once", truncate = false, stream = false });
        Assert.Equal(400, status);
        Assert.Equal("the input length (more than 18432 bytes, so at least 2049 tokens at 9 bytes per token, the longest in the model's vocabulary) " +
            "exceeds the context length (2048 tokens)", error);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
        await AssertServingAsync();
    }
}
