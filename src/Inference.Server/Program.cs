using Inference.Server.Hosting;
using Microsoft.Extensions.Options;

// "healthcheck": the container's HEALTHCHECK probe (the runtime image has no curl).
if (args is ["healthcheck", ..]) return await HealthProbe.RunAsync();

WebApplication app;
try
{
    app = InferenceServer.Build(args);
    await app.StartAsync();
}
catch (Exception ex) when (ex is InvalidOperationException or OptionsValidationException or FormatException)
{
    // A bad setting: one clear line naming it, no stack trace, and a non-zero exit.
    Console.Error.WriteLine($"configuration error: {ex.Message}");
    return 2;
}
await app.WaitForShutdownAsync();
return 0;

/// <summary>Entry point; everything is set up in <see cref="InferenceServer"/>.</summary>
public partial class Program;
