using Inference.Server.Http;
using Inference.Server.Platform.Code;
using Inference.Server.Platform.Sql;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Inference.Server.Platform;

/// <summary>The platform's own routes: /ai/* behind JWT bearer tokens and per-user limits, and /services/status.</summary>
public static class PlatformApi
{
    public static IServiceCollection AddPlatform(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PlatformOptions>().Bind(configuration.GetSection(PlatformOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<PlatformOptions>, PlatformOptionsValidator>();
        services.AddPlatformAuth();
        services.AddPlatformRateLimits();
        services.AddSingleton<PlatformModels>();
        var database = configuration.GetSection(PlatformOptions.Section).Get<PlatformOptions>()?.Database;
        if (database is { IsConfigured: true })
            services.AddSingleton(_ => NpgsqlDataSource.Create(database.ConnectionString));
        services.AddSqlDatabase(database ?? new PlatformDatabaseOptions());
        services.AddSingleton<SqlAssistant>();
        return services;
    }

    public static WebApplication MapPlatformApi(this WebApplication app)
    {
        var ai = app.MapGroup("/ai").RequireAuthorization(PlatformAuth.Policy).WithTags("Platform").WithEngineErrors(PlatformErrors.Shape);
        ai.MapPlatformGenerationApi();
        ai.MapPlatformModelsApi();
        ai.MapCodeCompletionApi();
        ai.MapSqlAssistApi();
        app.MapServiceStatusApi();

        var options = app.Services.GetRequiredService<IOptions<PlatformOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Inference.Platform");
        if (!PlatformAuth.IsConfigured(options.Auth))
            logger.LogWarning("No Platform:Auth signing key is configured: every /ai/* request is refused with 401");
        return app;
    }
}
