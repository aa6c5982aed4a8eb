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
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // Another process (often a server started earlier) listens there: say so, without a stack trace.
    Console.Error.WriteLine($"cannot listen: {ex.Message} Stop what listens there, or choose another address with --urls.");
    return 3;
}
await app.WaitForShutdownAsync();
return 0;

/// <summary>Entry point; everything is set up in <see cref="InferenceServer"/>.</summary>
public partial class Program;
