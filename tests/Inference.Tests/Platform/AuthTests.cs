using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Inference.Tests.Support;
using Microsoft.IdentityModel.Tokens;

namespace Inference.Tests.Platform;

public sealed class AuthTests(PlatformServer server) : IClassFixture<PlatformServer>
{
    private async Task<(int Status, string? Error, HttpResponseMessage Response)> GetModelsAsync(string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ai/models");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 ? (string?)JsonNode.Parse(text)!["error"] : null, response);
    }

    [Fact]
    public async Task A_valid_hs256_token_is_accepted()
    {
        var (status, _, _) = await GetModelsAsync(TestTokens.For("alice", "tenant_acme"));
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task A_valid_rs256_token_is_accepted()
    {
        var token = TestTokens.Create("bob", ["tenant_acme"], new SigningCredentials(new RsaSecurityKey(TestTokens.RsaKey), SecurityAlgorithms.RsaSha256));
        var (status, _, _) = await GetModelsAsync(token);
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task A_missing_token_is_401_with_a_json_error_and_a_bearer_challenge()
    {
        var (status, error, response) = await GetModelsAsync(null);
        Assert.Equal(401, status);
        Assert.Equal("missing bearer token", error);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    public static TheoryData<string, string> RejectedTokens()
    {
        var wrongKey = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes("another-key-that-is-also-32-bytes-long")), SecurityAlgorithms.HmacSha256);
        var right = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(TestTokens.SigningKey)), SecurityAlgorithms.HmacSha256);
        var now = DateTime.UtcNow;
        return new TheoryData<string, string>
        {
            { TestTokens.Create("eve", ["tenant_acme"], wrongKey), "the token's signature is not valid" },
            { TestTokens.Create("eve", ["tenant_acme"], right, issuer: "https://evil.example"), "the token's issuer is not accepted" },
            { TestTokens.Create("eve", ["tenant_acme"], right, audience: "someone-else"), "the token's audience is not accepted" },
            { TestTokens.Create("eve", ["tenant_acme"], right, expires: now.AddMinutes(-10), notBefore: now.AddMinutes(-20)), "the token has expired" },
            { "not-a-jwt", "invalid bearer token" },
        };
    }

    [Theory]
    [MemberData(nameof(RejectedTokens))]
    public async Task Tokens_with_a_wrong_key_issuer_audience_or_lifetime_are_401(string token, string expected)
    {
        var (status, error, _) = await GetModelsAsync(token);
        Assert.Equal(401, status);
        Assert.Equal(expected, error);
    }

    [Fact]
    public async Task An_unsigned_alg_none_token_is_401()
    {
        // {"alg":"none"} with valid claims and an empty signature: must never be trusted.
        var unsigned = TestTokens.Create("mallory", ["tenant_acme"], credentials: null);
        Assert.EndsWith(".", unsigned);
        var (status, _, _) = await GetModelsAsync(unsigned);
        Assert.Equal(401, status);
    }

    [Fact]
    public async Task An_hs256_token_signed_with_the_rsa_public_key_is_401()
    {
        // Algorithm confusion: the public key used as an HMAC secret.
        var confused = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(TestTokens.RsaPublicKeyPem)), SecurityAlgorithms.HmacSha256);
        var (status, _, _) = await GetModelsAsync(TestTokens.Create("mallory", ["tenant_acme"], confused));
        Assert.Equal(401, status);
    }

    [Fact]
    public async Task Ollama_routes_stay_open_by_default_while_ai_routes_require_a_token()
    {
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/api/tags")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.GetAsync("/ai/models")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.PostAsync("/ai/generate", TestServer.JsonContent(new { prompt = "x" }))).StatusCode);
    }
}

/// <summary>A server whose Ollama and OpenAI routes require the platform's tokens too.</summary>
public sealed class ProtectedCompatibleServer : PlatformServer
{
    protected override IEnumerable<string> PlatformSettings => ["--Platform:RequireAuthOnCompatibleRoutes=true"];
}

public sealed class ProtectedCompatibleRouteTests(ProtectedCompatibleServer server) : IClassFixture<ProtectedCompatibleServer>
{
    [Fact]
    public async Task Ollama_and_openai_routes_require_a_token_when_configured_but_health_stays_open()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.GetAsync("/api/tags")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/health")).StatusCode);

        using var client = TestTokens.Client(server, TestTokens.For("alice"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/tags")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task Messages_and_responses_follow_the_same_rule_and_messages_takes_the_token_as_x_api_key()
    {
        const string message = """{"model":"stories","max_tokens":2,"messages":[{"role":"user","content":"hi"}]}""";
        const string response = """{"model":"stories","max_output_tokens":2,"input":"hi"}""";
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.PostAsync("/v1/messages", TestServer.JsonContent(message))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.PostAsync("/v1/responses", TestServer.JsonContent(response))).StatusCode);

        using var bearer = TestTokens.Client(server, TestTokens.For("alice"));
        Assert.Equal(HttpStatusCode.OK, (await bearer.PostAsync("/v1/messages", TestServer.JsonContent(message))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bearer.PostAsync("/v1/responses", TestServer.JsonContent(response))).StatusCode);

        // What the Anthropic SDK sends: the key in x-api-key. A wrong key is refused like a wrong bearer token.
        foreach (var (key, expected) in new[] { (TestTokens.For("alice"), HttpStatusCode.OK), ("not-a-token", HttpStatusCode.Unauthorized) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = TestServer.JsonContent(message) };
            request.Headers.Add("x-api-key", key);
            request.Headers.Add("anthropic-version", "2023-06-01");
            Assert.Equal(expected, (await server.Client.SendAsync(request)).StatusCode);
        }
    }
}

/// <summary>A server with no signing key configured: the platform routes refuse everything.</summary>
public sealed class UnconfiguredAuthServer : TestServer;

public sealed class UnconfiguredAuthTests(UnconfiguredAuthServer server) : IClassFixture<UnconfiguredAuthServer>
{
    [Fact]
    public async Task Without_a_configured_key_every_ai_request_is_401_saying_so()
    {
        using var client = TestTokens.Client(server, TestTokens.For("alice"));
        using var response = await client.GetAsync("/ai/models");
        Assert.Equal(401, (int)response.StatusCode);
        Assert.Contains("authentication is not configured", (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!);
    }
}

public sealed class PlatformOptionsValidationTests
{
    [Theory]
    [InlineData("short", "", "iss", "aud", "SigningKey must be at least 32 bytes")]
    [InlineData("", "/nonexistent/key.pem", "iss", "aud", "RsaPublicKey is neither a PEM public key nor a readable PEM file")]
    [InlineData(TestTokens.SigningKey, "", "", "aud", "Issuer and Platform:Auth:Audience are required")]
    public void Weak_or_unreadable_keys_and_missing_issuer_or_audience_are_refused(string secret, string rsa, string issuer, string audience, string expected)
    {
        var options = new Inference.Server.Platform.PlatformOptions
        {
            Auth = new() { SigningKey = secret, RsaPublicKey = rsa, Issuer = issuer, Audience = audience },
        };
        var result = new Inference.Server.Platform.PlatformOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage);
    }

    [Fact]
    public void The_test_settings_and_no_auth_at_all_are_accepted()
    {
        var validator = new Inference.Server.Platform.PlatformOptionsValidator();
        Assert.True(validator.Validate(null, new()).Succeeded);
        Assert.True(validator.Validate(null, new()
        {
            Auth = new() { SigningKey = TestTokens.SigningKey, RsaPublicKey = TestTokens.RsaPublicKeyPem, Issuer = "i", Audience = "a" },
        }).Succeeded);
    }
}
