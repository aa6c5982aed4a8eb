using System.IO.Compression;
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
}
