using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Inference.Server.Platform;

/// <summary>
/// JWT bearer authentication for the /ai/* routes, through ASP.NET Core's JwtBearer handler.
/// Failures are the API's JSON error: 401 for a missing, expired, unsigned or wrongly signed
/// token, 403 for a valid token without access.
/// </summary>
public static class PlatformAuth
{
    /// <summary>The authorization policy every /ai/* route requires.</summary>
    public const string Policy = "platform-user";

    public static IServiceCollection AddPlatformAuth(this IServiceCollection services)
    {
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<PlatformOptions>>((jwt, platform) => Configure(jwt, platform.Value.Auth));
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .RequireClaim("sub"));
        return services;
    }

    /// <summary>Whether any signing key is configured; without one every token is refused.</summary>
    public static bool IsConfigured(PlatformAuthOptions auth) =>
        !string.IsNullOrEmpty(auth.SigningKey) || !string.IsNullOrEmpty(auth.RsaPublicKey);

    private static void Configure(JwtBearerOptions jwt, PlatformAuthOptions auth)
    {
        // Keep claim names as issued ("sub", "tenants"), not mapped to WS-* URIs.
        jwt.MapInboundClaims = false;
        var (keys, algorithms) = SigningKeys(auth);
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = auth.Issuer,
            ValidateAudience = true,
            ValidAudience = auth.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            IssuerSigningKeys = keys,
            // Only the algorithms of the configured keys: "none" and algorithm confusion are refused.
            ValidAlgorithms = algorithms,
            ClockSkew = auth.ClockSkew,
            NameClaimType = "sub",
        };
        jwt.Events = new JwtBearerEvents
        {
            OnMessageReceived = context =>
            {
                if (!IsConfigured(auth)) context.Fail("authentication is not configured on this server (set Platform:Auth:SigningKey or RsaPublicKey)");
                // Anthropic's clients send their key in x-api-key, not as a bearer token: on /v1/messages it is the token.
                else if (context.Request.Path.StartsWithSegments("/v1/messages") && string.IsNullOrEmpty(context.Request.Headers.Authorization)
                         && context.Request.Headers["x-api-key"] is [{ Length: > 0 } apiKey])
                    context.Token = apiKey;
                return Task.CompletedTask;
            },
            OnTokenValidated = context =>
            {
                if (RefusalOf(context.SecurityToken) is { } refusal) context.Fail(new PlatformTokenException(refusal));
                return Task.CompletedTask;
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                string message = context.AuthenticateFailure switch
                {
                    null => "missing bearer token",
                    PlatformTokenException refused => refused.Message,
                    SecurityTokenExpiredException => "the token has expired",
                    SecurityTokenNoExpirationException => "the token has no expiry (exp)",
                    SecurityTokenNotYetValidException => "the token is not valid yet (nbf)",
                    SecurityTokenInvalidLifetimeException => "the token's lifetime is not valid",
                    SecurityTokenInvalidAudienceException => "the token's audience is not accepted",
                    SecurityTokenInvalidIssuerException => "the token's issuer is not accepted",
                    SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token's signature is not valid",
                    SecurityTokenInvalidAlgorithmException => "the token's signing algorithm is not accepted",
                    { Message: var m } when !IsConfigured(auth) => m,
                    _ => "invalid bearer token",
                };
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await PlatformErrors.Error(StatusCodes.Status401Unauthorized, message).ExecuteAsync(context.HttpContext);
            },
            OnForbidden = context =>
                PlatformErrors.Error(StatusCodes.Status403Forbidden, "the token does not grant access to this route").ExecuteAsync(context.HttpContext),
        };
    }

    /// <summary>
    /// What the signature and claim checks do not cover: a user must be named (an empty "sub" would
    /// share one rate-limit window with every other nameless token), and a "crit" header lists
    /// extensions the issuer requires us to understand (RFC 7515 4.1.11); we understand none.
    /// </summary>
    private static string? RefusalOf(SecurityToken token)
    {
        if (token is not JsonWebToken jwt) return "invalid bearer token";
        if (jwt.TryGetHeaderValue<object>("crit", out var crit))
        {
            var names = crit is System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Array } array
                ? string.Join(", ", array.EnumerateArray().Select(e => e.ToString()))
                : crit is IEnumerable<object> list ? string.Join(", ", list) : crit?.ToString();
            return $"the token has critical header parameters this server does not understand: {Bounded(names)}";
        }
        if (!jwt.TryGetPayloadValue<string>("sub", out var sub) || string.IsNullOrWhiteSpace(sub))
            return "the token has no subject (sub)";
        return null;
    }

    /// <summary>Client text echoed in an error is cut short.</summary>
    private static string Bounded(string? text) => text is null ? "" : text.Length <= 64 ? text : text[..64] + "...";

    private static (List<SecurityKey> Keys, List<string> Algorithms) SigningKeys(PlatformAuthOptions auth)
    {
        var keys = new List<SecurityKey>();
        var algorithms = new List<string>();
        if (!string.IsNullOrEmpty(auth.SigningKey))
        {
            keys.Add(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(auth.SigningKey)));
            algorithms.Add(SecurityAlgorithms.HmacSha256);
        }
        if (!string.IsNullOrEmpty(auth.RsaPublicKey))
        {
            var pem = auth.RsaPublicKey.Contains("-----BEGIN", StringComparison.Ordinal) ? auth.RsaPublicKey : File.ReadAllText(auth.RsaPublicKey);
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            keys.Add(new RsaSecurityKey(rsa));
            algorithms.Add(SecurityAlgorithms.RsaSha256);
        }
        return (keys, algorithms);
    }
}

/// <summary>A token refused by our own checks; its message is the 401's reason.</summary>
public sealed class PlatformTokenException(string message) : SecurityTokenValidationException(message);
