using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Registry;
using Inference.Engine.Store;
using Inference.Server.Anthropic;
using Inference.Server.Generation;
using Inference.Server.Http;
using Inference.Server.Metrics;
using Inference.Server.OpenAI;
using Inference.Server.Ollama;
using Inference.Server.Operations;
using Inference.Server.Platform;
using Inference.Server.Responses;
using Inference.Server.WebConsole;
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
        // Settings files sit next to the program, wherever it is started from; the working directory
        // stays the caller's, so relative paths on the command line mean what the caller meant.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ServerConfiguration.WithoutModelArguments(args),
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddOllamaEnvironment();
        // A start-up failure propagates to Program, which prints it as one line (a bad setting) or
        // with its stack trace (a bug); the host's own "Hosting failed to start" entry would repeat it.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
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
        builder.Services.AddConsole();
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
            var manager = new ModelManager(sp.GetRequiredService<IOptions<EngineOptions>>().Value, sp.GetRequiredService<ILoggerFactory>(), metrics,
                sp.GetService<TimeProvider>());
            metrics.Track(manager);
            return manager;
        });
        builder.Services.AddSingleton<GenerationService>();
        builder.Services.AddSingleton<GenerationPipeline>();
        builder.Services.AddSingleton<EmbeddingService>();
        builder.Services.AddSingleton<Vocabularies>();
        // Model downloads can take hours: no overall timeout, the client's disconnect cancels.
        builder.Services.AddHttpClient<RegistryClient>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddTransient<ModelPuller>();
        builder.Services.AddModelPush();
        builder.Services.AddHostedService<StartupService>();
        builder.Services.AddModelPreload(builder.Configuration);
        builder.Services.AddOpenApi(o => o.AddBearerSecurity().AddSchemaTransformer((schema, context, _) =>
        {
            if (OllamaExamples.For(context.JsonTypeInfo.Type) is { } example) schema.Example = example;
            return Task.CompletedTask;
        }));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, OllamaJsonContext.Wire));

        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseExceptionHandler(errors => errors.Run(WriteInternalErrorAsync));
        app.UseBrowserGuards();
        app.UseConsole();
        app.UseRequestBodyLimits();
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
        compatible.MapOllamaTokenizeApi();
        compatible.MapOllamaPullApi();
        compatible.MapOllamaPushApi();
        compatible.MapOpenAIApi();
        compatible.MapAnthropicApi();
        compatible.MapResponsesApi();
        app.MapPlatformApi();
        app.MapOperationsApi();
        app.MapDevelopmentTokens();
        return app;
    }

    /// <summary>Unhandled failures become the API's error shape without a stack trace (which is only logged).</summary>
    private static Task WriteInternalErrorAsync(HttpContext http) =>
        http.Features.Get<IExceptionHandlerFeature>()?.Error switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                RouteErrors.WriteAsync(http, StatusCodes.Status413PayloadTooLarge, RequestBodyLimits.TooLarge(RequestBodyLimits.For(http.Request.Path) ?? 0)),
            BadHttpRequestException bad => RouteErrors.WriteAsync(http, bad.StatusCode, bad.Message),
            _ => RouteErrors.WriteAsync(http, StatusCodes.Status500InternalServerError, "internal server error"),
        };
}
