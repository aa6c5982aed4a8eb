using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inference.Tests.Benchmarks;

/// <summary>
/// Minimal Ollama-style server on a random loopback port: /api/generate streams a fixed number of
/// pieces with a delay between them, so the client's TTFT/ITL measurements have known lower bounds.
/// Prompts starting with "fail-http" get a 500, "fail-line" an in-stream error line.
/// </summary>
public sealed class FakeOllamaServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    public string Url { get; }
    public int Requests;

    private FakeOllamaServer(WebApplication app, string url) { _app = app; Url = url; }

    public static async Task<FakeOllamaServer> StartAsync(int pieces, TimeSpan firstDelay, TimeSpan delay)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeOllamaServer? self = null;
        app.MapPost("/api/generate", async (HttpContext ctx) =>
        {
            Interlocked.Increment(ref self!.Requests);
            using var body = await JsonDocument.ParseAsync(ctx.Request.Body);
            var prompt = body.RootElement.GetProperty("prompt").GetString() ?? "";
            if (prompt.StartsWith("fail-http", StringComparison.Ordinal))
            {
                ctx.Response.StatusCode = 500;
                await ctx.Response.WriteAsync("{\"error\":\"boom\"}");
                return;
            }
            ctx.Response.ContentType = "application/x-ndjson";
            async Task Line(object o)
            {
                await ctx.Response.WriteAsync(JsonSerializer.Serialize(o) + "\n");
                await ctx.Response.Body.FlushAsync();
            }
            await Task.Delay(firstDelay);
            if (prompt.StartsWith("fail-line", StringComparison.Ordinal))
            {
                await Line(new { error = "model exploded" });
                return;
            }
            for (var i = 0; i < pieces; i++)
            {
                if (i > 0) await Task.Delay(delay);
                await Line(new { model = "fake", response = $" tok{i}", done = false });
            }
            await Line(new { model = "fake", response = "", done = true, eval_count = pieces, prompt_eval_count = 11 });
        });
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        self = new FakeOllamaServer(app, url);
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
