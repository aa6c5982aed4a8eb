using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Inference.Server.Hosting;
using Inference.Tests.Platform;
using Inference.Tests.Support;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Inference.Tests.WebConsole;

/// <summary>A server that mints development tokens for two tenants, valid ten minutes.</summary>
public class DevelopmentTokenServer : PlatformServer
{
    public static readonly string[] Tenants = ["tenant_a", "tenant_b"];

    protected override IEnumerable<string> PlatformSettings =>
    [
        "--Platform:DevelopmentTokens:Enabled=true",
        $"--Platform:DevelopmentTokens:Tenants:0={Tenants[0]}",
        $"--Platform:DevelopmentTokens:Tenants:1={Tenants[1]}",
        "--Platform:DevelopmentTokens:Lifetime=00:10:00",
        .. MoreSettings,
    ];

    protected virtual IEnumerable<string> MoreSettings => [];
}

/// <summary>The same helper on a server listening on this machine's network address, not loopback.</summary>
public sealed class NetworkDevelopmentTokenServer : DevelopmentTokenServer
{
    public static IPAddress Address { get; } = NetworkInterface.GetAllNetworkInterfaces()
        .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
        .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
        .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("this machine has no non-loopback IPv4 address to test a remote client with");

    protected override IEnumerable<string> MoreSettings => ["--urls", $"http://{Address}:0"];
}

public sealed class DevelopmentTokenTests(DevelopmentTokenServer server) : IClassFixture<DevelopmentTokenServer>
{
    [Fact]
    public async Task The_helper_describes_what_it_may_mint()
    {
        var info = await server.GetJsonAsync("/ui/dev-token");
        Assert.Equal(DevelopmentTokenServer.Tenants, info["tenants"]!.AsArray().Select(t => (string)t!));
        Assert.Equal("console-developer", (string)info["subject"]!);
        Assert.Equal(600, (long)info["lifetime_seconds"]!);
    }

    [Fact]
    public async Task A_minted_token_works_on_ai_models_and_carries_only_the_asked_tenants()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.GetAsync("/ai/models")).StatusCode);

        var (status, body) = await server.PostAsync("/ui/dev-token", new { tenants = new[] { "tenant_b" } });
        Assert.Equal(200, status);
        var token = (string)body!["token"]!;
        var jwt = new JsonWebToken(token);
        Assert.Equal("HS256", jwt.Alg);
        Assert.Equal("console-developer", jwt.Subject);
        Assert.Equal(TestTokens.Issuer, jwt.Issuer);
        Assert.Equal([TestTokens.Audience], jwt.Audiences);
        Assert.Equal(["tenant_b"], jwt.GetPayloadValue<List<string>>("tenants"));
        Assert.Equal(TimeSpan.FromMinutes(10), jwt.ValidTo - jwt.IssuedAt);
        Assert.Equal(jwt.ValidTo, ((DateTimeOffset)body["expires_at"]!).UtcDateTime, TimeSpan.FromSeconds(1));
        Assert.Equal(["tenant_b"], body["tenants"]!.AsArray().Select(t => (string)t!));

        using var client = TestTokens.Client(server, token);
        using var models = await client.GetAsync("/ai/models");
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        var names = JsonNode.Parse(await models.Content.ReadAsStringAsync())!["models"]!.AsArray().Select(m => (string)m!["name"]!);
        Assert.Equal(["stories:latest", "tiny:latest"], names);
    }

    [Fact]
    public async Task No_tenants_is_a_token_without_tenants()
    {
        var (status, body) = await server.PostAsync("/ui/dev-token", new { });
        Assert.Equal(200, status);
        Assert.Empty(new JsonWebToken((string)body!["token"]!).GetPayloadValue<List<string>>("tenants"));
    }

    [Theory]
    [InlineData("""{"tenants":["tenant_c"]}""", "tenant 'tenant_c' is not allowed; Platform:DevelopmentTokens:Tenants allows tenant_a, tenant_b")]
    [InlineData("""{"tenants":["tenant_a","Tenant_A"]}""", "tenant 'Tenant_A' is not allowed; Platform:DevelopmentTokens:Tenants allows tenant_a, tenant_b")]
    [InlineData("""{"tenants":"tenant_a"}""", "invalid request: field 'tenants' has the wrong type")]
    [InlineData("""{"tenants":[],""", "invalid JSON: Expected start of a property name or value, but instead reached end of data.")]
    public async Task Tenants_outside_the_allowlist_and_bad_bodies_are_400_saying_why(string request, string expected)
    {
        var (status, text) = await server.PostRawAsync("/ui/dev-token", request);
        Assert.Equal(400, status);
        Assert.Equal(expected, (string)JsonNode.Parse(text)!["error"]!);
    }

    /// <summary>The route takes POSTs, so a page on another site must not reach it (BrowserGuards' Origin check).</summary>
    [Fact]
    public async Task Another_sites_page_cannot_mint_a_token()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ui/dev-token") { Content = TestServer.JsonContent(new { tenants = new[] { "tenant_a" } }) };
        request.Headers.Add("Origin", "https://evil.example");
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("token\"", await response.Content.ReadAsStringAsync());
    }
}

public sealed class RemoteDevelopmentTokenTests(NetworkDevelopmentTokenServer server) : IClassFixture<NetworkDevelopmentTokenServer>
{
    [Fact]
    public async Task Clients_that_are_not_on_this_machine_get_no_token()
    {
        Assert.StartsWith($"http://{NetworkDevelopmentTokenServer.Address}:", server.BaseUrl);
        var (status, body) = await server.PostAsync("/ui/dev-token", new { tenants = new[] { "tenant_a" } });
        Assert.Equal(403, status);
        Assert.Equal("development tokens are only given to clients on the server's own machine (loopback)", (string)body!["error"]!);
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Client.GetAsync("/ui/dev-token")).StatusCode);
        // The console itself is served to them as before.
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/ui/")).StatusCode);
    }
}

public sealed class DevelopmentTokensOffTests(PlatformServer server) : IClassFixture<PlatformServer>
{
    [Fact]
    public async Task Without_the_setting_the_route_does_not_exist_even_with_a_signing_key()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync("/ui/dev-token")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.PostAsync("/ui/dev-token", TestServer.JsonContent(new { tenants = Array.Empty<string>() }))).StatusCode);
    }
}

public sealed class DevelopmentTokenStartupTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Enabling_the_helper_without_an_HS256_signing_key_stops_the_start_up_saying_why(bool rsaOnly)
    {
        using var models = new TempDirectory();
        string[] args =
        [
            "--urls", "http://127.0.0.1:0", $"--Inference:ModelsDirectory={models.Path}", "--Logging:LogLevel:Default=None",
            "--Platform:DevelopmentTokens:Enabled=true",
            .. rsaOnly ? TestTokens.ServerSettings.Where(s => !s.StartsWith("--Platform:Auth:SigningKey=", StringComparison.Ordinal)) : [],
        ];
        // Options are validated while the app is built or, at the latest, when it starts; Program prints either as one line.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = InferenceServer.Build(args);
            await app.StartAsync();
        });
        Assert.Equal("Platform:DevelopmentTokens:Enabled needs Platform:Auth:SigningKey (an HS256 secret) to sign the tokens it mints", error.Message);
    }
}
