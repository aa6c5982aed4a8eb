using System.IO.Compression;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Inference.Server.WebConsole;

/// <summary>
/// The web console at /ui/: static files embedded in this assembly (WebConsole/wwwroot), served
/// compressed. The pages call the server's own public routes from the same origin; nothing here
/// reads or stores what users type. GET / stays Ollama's "Ollama is running".
/// </summary>
public static class ConsoleApi
{
    public const string Path = "/ui";

    public static IServiceCollection AddConsole(this IServiceCollection services) =>
        services.AddResponseCompression(o =>
        {
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml"];
        })
        .Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Optimal)
        .Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Optimal);

    /// <summary>
    /// Only the console's own paths are compressed: the API's streams (NDJSON, SSE) must reach
    /// clients token by token, which a compressing middleware would buffer.
    /// </summary>
    public static IApplicationBuilder UseConsole(this IApplicationBuilder app)
    {
        LogUrlsOnStart(app.ApplicationServices);
        var files = new ManifestEmbeddedFileProvider(typeof(ConsoleApi).Assembly, "WebConsole/wwwroot");
        return app.UseWhen(http => http.Request.Path.StartsWithSegments(Path), console =>
        {
            console.UseResponseCompression();
            // /ui redirects to /ui/, whose index.html is the console.
            console.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
            console.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                RequestPath = Path,
                ContentTypeProvider = new FileExtensionContentTypeProvider(),
                // Revalidate every time (ETag): an upgraded server never runs a page against stale scripts.
                OnPrepareResponse = file => file.Context.Response.Headers[HeaderNames.CacheControl] = "no-cache",
            });
        });
    }

    /// <summary>Once listening, names the console's address (scripts/run-server.sh and the container logs show it).</summary>
    private static void LogUrlsOnStart(IServiceProvider services)
    {
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Inference.WebConsole");
            foreach (var address in addresses) logger.LogInformation("Web console: {ConsoleUrl}", UrlFor(address));
        });
    }

    /// <summary>
    /// The console's URL on a listening address: "http://0.0.0.0:11434" → "http://127.0.0.1:11434/ui/" (a
    /// wildcard is not an address a browser can open; the machine itself is).
    /// </summary>
    public static string UrlFor(string listeningAddress)
    {
        var uri = new UriBuilder(listeningAddress.Replace("://+:", "://0.0.0.0:").Replace("://*:", "://0.0.0.0:"));
        uri.Host = uri.Host switch { "0.0.0.0" => "127.0.0.1", "[::]" => "[::1]", var host => host };
        uri.Path = Path + "/";
        return uri.Uri.ToString();
    }
}
