using System.Text.Json.Nodes;
using Inference.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Tests.Operations;

[Collection("server")]
public sealed class OperationsTests(SharedServer server)
{
    [Fact]
    public async Task Liveness_and_readiness_answer()
    {
        Assert.Equal("Healthy", (string)(await server.GetJsonAsync("/health"))["status"]!);
        var ready = await server.GetJsonAsync("/health/ready");
        Assert.Equal("Healthy", (string)ready["status"]!);
        Assert.StartsWith("llama.cpp backend cpu loaded", (string)ready["checks"]!["llama.cpp backend"]!);
    }

    [Fact]
    public async Task Browser_origins_get_cors_headers_only_when_allowed()
    {
        async Task<string?> AllowedOrigin(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "/api/tags");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            using var response = await server.Client.SendAsync(request);
            return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) ? v.Single() : null;
        }
        Assert.Equal("http://localhost:5173", await AllowedOrigin("http://localhost:5173"));
        Assert.Null(await AllowedOrigin("https://evil.example"));
    }

    [Fact]
    public async Task Metrics_count_requests_by_route_and_status()
    {
        static double Count(string text, string route, string code) => PrometheusText.Value(text,
            $"http_requests_received_total{{code=\"{code}\",method=\"GET\",controller=\"\",action=\"\",endpoint=\"{route}\"}}");
        var before = await server.Client.GetStringAsync("/metrics");
        await server.Client.GetStringAsync("/api/tags");
        await server.Client.GetStringAsync("/api/tags");
        var after = await server.Client.GetStringAsync("/metrics");
        Assert.Equal(Count(before, "/api/tags", "200") + 2, Count(after, "/api/tags", "200"));
        Assert.Contains("inference_loaded_models", after);
    }

    [Fact]
    public async Task Every_mapped_route_is_in_the_openapi_document()
    {
        var doc = await server.GetJsonAsync("/openapi/v1.json");
        var paths = doc["paths"]!.AsObject();
        var routes = server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            // A catch-all parameter ({*model}) is a plain {model} in OpenAPI paths.
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/').Replace("{*", "{"))
            .Where(r => !r.StartsWith("/openapi/"))
            .Distinct()
            .ToList();
        Assert.True(routes.Count >= 14, string.Join(", ", routes));
        Assert.All(routes, r => Assert.True(paths.ContainsKey(r), $"{r} is not in the OpenAPI document"));
        // Request and response schemas are the real contracts.
        var generate = paths["/api/generate"]!["post"]!;
        Assert.NotNull(generate["requestBody"]!["content"]!["application/json"]!["schema"]);
        Assert.NotNull(generate["responses"]!["200"]);

        // Examples are real contract JSON: the documented request works against the server as it is.
        var example = generate["requestBody"]!["content"]!["application/json"]!["example"]!.DeepClone();
        Assert.Equal("Why is the sky blue?", (string)example["prompt"]!);
        example["model"] = "stories";
        var (status, r) = await server.PostAsync("/api/generate", example.ToJsonString());
        Assert.Equal(200, status);
        Assert.True((bool)r!["done"]!);
        var responseExample = doc["components"]!["schemas"]!["GenerateResponse"]!["example"]!.AsObject();
        Assert.Equal(r.AsObject().Select(p => p.Key).Order(), responseExample.Select(p => p.Key).Order());
    }
}

/// <summary>A server started after something else in the process already loaded llama.cpp (as tests and tools do).</summary>
public sealed class LateServer : TestServer
{
    protected override void Configure(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder) =>
        LLama.Native.NativeApi.llama_empty_call();
}

public sealed class EarlyNativeLoadTests(LateServer server) : IClassFixture<LateServer>
{
    [Fact]
    public async Task Readiness_holds_when_the_native_library_was_loaded_before_the_server_configured_it()
    {
        using var ready = await server.Client.GetAsync("/health/ready");
        Assert.Equal(200, (int)ready.StatusCode);
    }
}
