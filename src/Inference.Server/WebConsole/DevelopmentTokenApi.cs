using System.Security.Claims;
using System.Text;
using System.Text.Json.Serialization;
using Inference.Server.Hosting;
using Inference.Server.Http;
using Inference.Server.Platform;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Inference.Server.WebConsole;

/// <summary>
/// /ui/dev-token: mints short-lived HS256 tokens for a developer trying the console (the SQL page needs
/// tenants) without an identity provider. Mapped only when Platform:DevelopmentTokens:Enabled is set
/// (404 otherwise), and it answers only clients connected over loopback, so a server left with the
/// setting on does not hand tokens to the network. The tokens are ordinary platform tokens: same
/// issuer, audience and key as real ones, so every route checks them the usual way.
/// </summary>
public static class DevelopmentTokenApi
{
    public const string Path = ConsoleApi.Path + "/dev-token";

    public static IEndpointRouteBuilder MapDevelopmentTokens(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<PlatformOptions>>().Value.DevelopmentTokens.Enabled) return app;
        app.MapGet(Path, Describe).ExcludeFromDescription();
        app.MapPost(Path, MintAsync).ExcludeFromDescription();
        return app;
    }

    /// <summary>What the console's token dialog needs to offer the button: the tenants it may ask for.</summary>
    private static IResult Describe(HttpContext http, IOptions<PlatformOptions> options)
    {
        if (Refusal(http) is { } refused) return refused;
        var dev = options.Value.DevelopmentTokens;
        return TypedResults.Json(new DevTokenInfo(dev.Tenants, dev.Subject, (long)dev.Lifetime.TotalSeconds), DevTokenJson.Default.DevTokenInfo);
    }

    private static async Task<IResult> MintAsync(HttpContext http, IOptions<PlatformOptions> options)
    {
        if (Refusal(http) is { } refused) return refused;
        var (request, error) = await JsonBody.ReadAsync(http.Request, DevTokenJson.Default.DevTokenRequest, http.RequestAborted);
        if (request is null) return PlatformErrors.BadRequest(error!);
        var platform = options.Value;
        var dev = platform.DevelopmentTokens;
        var tenants = request.Tenants ?? [];
        if (tenants.FirstOrDefault(t => !dev.Tenants.Contains(t, StringComparer.Ordinal)) is { } unknown)
            return PlatformErrors.BadRequest(dev.Tenants.Count == 0
                ? $"tenant '{Bounded(unknown)}' is not allowed: Platform:DevelopmentTokens:Tenants is empty"
                : $"tenant '{Bounded(unknown)}' is not allowed; Platform:DevelopmentTokens:Tenants allows {string.Join(", ", dev.Tenants)}");

        var now = (http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        var expires = now + dev.Lifetime;
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = platform.Auth.Issuer,
            Audience = platform.Auth.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Subject = new ClaimsIdentity([new Claim("sub", dev.Subject)]),
            Claims = new Dictionary<string, object> { [platform.Auth.TenantsClaim] = tenants.Distinct(StringComparer.Ordinal).ToArray() },
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(platform.Auth.SigningKey)), SecurityAlgorithms.HmacSha256),
        });
        return TypedResults.Json(new DevTokenResponse(token, dev.Subject, tenants.Distinct(StringComparer.Ordinal).ToList(), expires),
            DevTokenJson.Default.DevTokenResponse);
    }

    /// <summary>Only a browser on this machine gets tokens; the route exists, so say why rather than 404.</summary>
    private static IResult? Refusal(HttpContext http) =>
        HostAllowlist.IsLoopbackConnection(http.Connection.RemoteIpAddress) ? null
            : PlatformErrors.Forbidden("development tokens are only given to clients on the server's own machine (loopback)");

    private static string Bounded(string text) => text.Length <= 64 ? text : text[..64] + "...";
}

public sealed record DevTokenRequest([property: JsonPropertyName("tenants")] List<string>? Tenants);

public sealed record DevTokenResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("tenants")] IReadOnlyList<string> Tenants,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt);

public sealed record DevTokenInfo(
    [property: JsonPropertyName("tenants")] IReadOnlyList<string> Tenants,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("lifetime_seconds")] long LifetimeSeconds);

[JsonSerializable(typeof(DevTokenRequest))]
[JsonSerializable(typeof(DevTokenResponse))]
[JsonSerializable(typeof(DevTokenInfo))]
internal sealed partial class DevTokenJson : JsonSerializerContext;
