using Inference.Server.Http;
using Microsoft.Extensions.Options;

namespace Inference.Server.Hosting;

/// <summary>
/// What stops a web page in the user's browser from using the open API:
/// DNS rebinding (a page under the attacker's name that resolves to 127.0.0.1) is refused by the Host
/// check on loopback connections; a cross-site request (a form or text/plain POST that CORS does not
/// preflight) is refused when it carries an Origin that is neither allowed nor this server itself.
/// Clients that are not browsers send no Origin and are unaffected.
/// </summary>
public static class BrowserGuards
{
    public static IApplicationBuilder UseBrowserGuards(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<ServerOptions>>().Value;
        var hosts = new HostAllowlist(options.Hosts);
        return app.Use(async (http, next) =>
        {
            if (HostAllowlist.IsLoopbackConnection(http.Connection.LocalIpAddress) && !hosts.IsAllowed(http.Request.Host.Host))
            {
                await RouteErrors.WriteAsync(http, StatusCodes.Status403Forbidden,
                    "this host name is not allowed on a server listening on a loopback address; add it to Server:AllowedHosts");
                return;
            }
            if (IsUnsafe(http.Request.Method) && http.Request.Headers.Origin.ToString() is { Length: > 0 } origin
                && !OriginPolicy.IsAllowed(origin, options.Origins) && !IsSameTrustedOrigin(origin, http.Request, hosts))
            {
                await RouteErrors.WriteAsync(http, StatusCodes.Status403Forbidden,
                    "requests from this origin are not allowed; add it to OLLAMA_ORIGINS (Server:AllowedOrigins)");
                return;
            }
            await next(http);
        });
    }

    private static bool IsUnsafe(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    /// <summary>
    /// A page served by this server calling its own API (same scheme, host and port) under a host name
    /// the server answers to. A same-origin request under a rebound name is not this: its host fails the allowlist.
    /// </summary>
    private static bool IsSameTrustedOrigin(string origin, HttpRequest request, HostAllowlist hosts)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)) return false;
        var self = $"{request.Scheme}://{request.Host.Value}";
        return Uri.TryCreate(self, UriKind.Absolute, out var own)
            && Uri.Compare(uri, own, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0
            && hosts.IsAllowed(request.Host.Host);
    }
}
