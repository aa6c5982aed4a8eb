using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Inference.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Inference.Tests.Platform;

/// <summary>Token details beyond signature, issuer and audience: the subject, critical headers and expiry.</summary>
public sealed class TokenClaimsTests(PlatformServer server) : IClassFixture<PlatformServer>
{
    private static readonly SigningCredentials Hs256 =
        new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(TestTokens.SigningKey)), SecurityAlgorithms.HmacSha256);

    private static string Token(Dictionary<string, object> claims, Dictionary<string, object>? headers = null, DateTime? expires = null, bool withTimes = true)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = TestTokens.Issuer,
            Audience = TestTokens.Audience,
            Claims = claims,
            AdditionalHeaderClaims = headers,
            SigningCredentials = Hs256,
        };
        if (withTimes)
        {
            descriptor.Expires = expires ?? now.AddMinutes(30);
            descriptor.NotBefore = (expires ?? now).AddMinutes(-60);
            descriptor.IssuedAt = (expires ?? now).AddMinutes(-60);
        }
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private async Task<(int Status, string? Error)> ModelsAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ai/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 ? (string?)JsonNode.Parse(text)!["error"] : null);
    }

    public static TheoryData<string, string> Refused()
    {
        var tenants = new[] { "tenant_acme" };
        return new TheoryData<string, string>
        {
            { Token(new() { ["sub"] = "", ["tenants"] = tenants }), "the token has no subject (sub)" },
            { Token(new() { ["sub"] = "   ", ["tenants"] = tenants }), "the token has no subject (sub)" },
            { Token(new() { ["tenants"] = tenants }), "the token has no subject (sub)" },
            { Token(new() { ["sub"] = "alice", ["tenants"] = tenants }, new() { ["crit"] = new[] { "b64" }, ["b64"] = false }),
                "the token has critical header parameters this server does not understand: b64" },
            { Token(new() { ["sub"] = "alice", ["tenants"] = tenants }, new() { ["crit"] = new[] { "x-custom" }, ["x-custom"] = 1 }),
                "the token has critical header parameters this server does not understand: x-custom" },
            { Token(new() { ["sub"] = "alice", ["tenants"] = tenants }, expires: DateTime.UtcNow.AddMinutes(-2)), "the token has expired" },
            { Token(new() { ["sub"] = "alice", ["tenants"] = tenants }, expires: DateTime.UtcNow.AddDays(-400)), "the token has expired" },
            { Token(new() { ["sub"] = "alice", ["tenants"] = tenants }, withTimes: false), "the token has no expiry (exp)" },
        };
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Tokens_without_a_subject_with_unknown_critical_headers_or_expired_are_401_saying_why(string token, string expected)
    {
        var (status, error) = await ModelsAsync(token);
        Assert.Equal(expected, error);
        Assert.Equal(401, status);
    }

    [Fact]
    public async Task A_token_with_a_subject_and_no_critical_headers_is_accepted()
    {
        var (status, _) = await ModelsAsync(Token(new() { ["sub"] = "alice", ["tenants"] = new[] { "tenant_acme" } }));
        Assert.Equal(200, status);
    }
}
