using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Registry;
using Inference.Engine.Store;
using Inference.Server.Metrics;
using Inference.Server.OpenAI;
using Inference.Server.Ollama;
using Inference.Server.Operations;
using Inference.Server.Platform;
using Prometheus;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace Inference.Server.Hosting;

/// <summary>Builds the web application; Program.cs and the tests both start the server through here.</summary>
public static class InferenceServer
{
    /// <param name="configure">Lets tests add services (e.g. a log capture) before the app is built.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var startupModels = new StartupModels(ServerConfiguration.ModelArguments(args));
        var builder = WebApplication.CreateBuilder(ServerConfiguration.WithoutModelArguments(args));
        builder.Configuration.AddOllamaEnvironment();
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(ServerConfiguration.ListenUrl(null));

        builder.Services.AddOptions<EngineOptions>()
            .Bind(builder.Configuration.GetSection(EngineOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ServerOptions>().Bind(builder.Configuration.GetSection(ServerOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddApiRateLimiting();
        builder.Services.AddPlatform(builder.Configuration);
        builder.Services.Configure<HostOptions>(o =>
            o.ShutdownTimeout = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>()?.ShutdownGracePeriod is { } grace
                ? grace + TimeSpan.FromSeconds(10)
                : TimeSpan.FromSeconds(20));
        builder.Services.AddCors();
        builder.Services.AddHealthChecks().AddCheck<BackendHealthCheck>("llama.cpp backend", tags: ["ready"]);
        builder.Services.AddHostedService<GracefulShutdown>();
        builder.Services.AddSingleton(startupModels);
        builder.Services.AddSingleton(sp => new ModelStore(sp.GetRequiredService<IOptions<EngineOptions>>().Value.ModelsDirectory));
        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<ModelImporter>();
        builder.Services.AddSingleton<InferenceMetrics>();
        builder.Services.AddSingleton(sp =>
        {
            var metrics = sp.GetRequiredService<InferenceMetrics>();
            var manager = new ModelManager(sp.GetRequiredService<IOptions<EngineOptions>>().Value, sp.GetRequiredService<ILoggerFactory>(), metrics);
            metrics.Track(manager);
            return manager;
        });
        builder.Services.AddSingleton<GenerationService>();
        builder.Services.AddSingleton<EmbeddingService>();
        // Model downloads can take hours: no overall timeout, the client's disconnect cancels.
        builder.Services.AddHttpClient<RegistryClient>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddTransient<ModelPuller>();
        builder.Services.AddHostedService<StartupService>();
        builder.Services.AddOpenApi(o => o.AddBearerSecurity().AddSchemaTransformer((schema, context, _) =>
        {
            if (OllamaExamples.For(context.JsonTypeInfo.Type) is { } example) schema.Example = example;
            return Task.CompletedTask;
        }));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, OllamaJsonContext.Wire));

        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseExceptionHandler(errors => errors.Run(WriteInternalErrorAsync));
        app.UseCors(policy => policy.SetIsOriginAllowed(origin => OriginPolicy.IsAllowed(origin,
                app.Services.GetRequiredService<IOptions<ServerOptions>>().Value.Origins))
            .AllowAnyHeader().AllowAnyMethod());

        var metrics = app.Services.GetRequiredService<InferenceMetrics>();
        // Authentication first: the per-user limits of the /ai/* routes partition by the token's subject.
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        // Requests by route and status, and their durations, in the same registry.
        app.UseHttpMetrics(o => o.SetMetricFactory(Prometheus.Metrics.WithCustomRegistry(metrics.Registry)));
        app.MapOpenApi();
        // The Ollama and OpenAI routes are open by default, as Ollama's are; configuration can put them behind the platform's tokens.
        var compatible = app.MapGroup("");
        if (app.Services.GetRequiredService<IOptions<PlatformOptions>>().Value.RequireAuthOnCompatibleRoutes)
            compatible.RequireAuthorization(PlatformAuth.Policy);
        compatible.MapOllamaModelApi();
        compatible.MapOllamaGenerationApi();
        compatible.MapOllamaEmbedApi();
        compatible.MapOllamaPullApi();
        compatible.MapOpenAIApi();
        app.MapPlatformApi();
        app.MapOperationsApi();
        return app;
    }

    /// <summary>Unhandled failures become {"error": "..."} without a stack trace (which is only logged).</summary>
    private static async Task WriteInternalErrorAsync(HttpContext http)
    {
        var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        http.Response.StatusCode = error is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
        http.Response.ContentType = "application/json";
        var message = error is BadHttpRequestException b ? b.Message : "internal server error";
        await System.Text.Json.JsonSerializer.SerializeAsync(http.Response.Body, new ErrorResponse(message),
            OllamaJsonContext.Wire.ErrorResponse);
    }
}
