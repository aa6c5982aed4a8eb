using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Inference.Tests.Support;

/// <summary>Signs JWTs the way an identity provider would, for the platform routes' tests.</summary>
public static class TestTokens
{
    public const string Issuer = "https://id.test.local";
    public const string Audience = "inference-platform";
    public const string SigningKey = "test-signing-key-of-at-least-32-bytes!!";

    /// <summary>An RS256 key pair whose public half the RS256 test server trusts.</summary>
    public static RSA RsaKey { get; } = RSA.Create(2048);
    public static string RsaPublicKeyPem { get; } = RsaKey.ExportSubjectPublicKeyInfoPem();

    /// <summary>Server settings that trust <see cref="SigningKey"/> (HS256) and <see cref="RsaKey"/> (RS256).</summary>
    public static IEnumerable<string> ServerSettings =>
    [
        $"--Platform:Auth:Issuer={Issuer}",
        $"--Platform:Auth:Audience={Audience}",
        $"--Platform:Auth:SigningKey={SigningKey}",
        $"--Platform:Auth:RsaPublicKey={RsaPublicKeyPem}",
    ];

    /// <summary>An HS256 token for <paramref name="subject"/> with access to <paramref name="tenants"/>.</summary>
    public static string For(string subject, params string[] tenants) =>
        Create(subject, tenants, new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(SigningKey)), SecurityAlgorithms.HmacSha256));

    public static string Create(string subject, string[] tenants, SigningCredentials? credentials,
        string issuer = Issuer, string audience = Audience, DateTime? expires = null, DateTime? notBefore = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = notBefore ?? now.AddMinutes(-5),
            IssuedAt = (notBefore ?? now.AddMinutes(-5)),
            Expires = expires ?? now.AddMinutes(30),
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Claims = new Dictionary<string, object> { ["tenants"] = tenants },
            SigningCredentials = credentials,
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>An HttpClient for the server that sends <paramref name="token"/> as a bearer token.</summary>
    public static HttpClient Client(TestServer server, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
