using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Platform;

public sealed class ServiceStatusTests(PlatformServer server) : IClassFixture<PlatformServer>
{
    [Fact]
    public async Task Status_probes_the_engine_and_each_loaded_model()
    {
        var before = JsonNode.Parse(await server.Client.GetStringAsync("/services/status"))!.AsArray();
        var engine = before.Single(s => (string)s!["name"]! == "inference engine")!;
        Assert.Equal("up", (string)engine["status"]!);
        Assert.StartsWith("llama.cpp://", (string)engine["url"]!);
        // The engine probe reads the backend state loaded at start-up, so it may round to 0 ms; the bound
        // catches a value that is not a duration of this probe (a timestamp, ticks, a negative number).
        Assert.InRange((double)engine["response_time_ms"]!, 0, 1000);
        Assert.DoesNotContain(before, s => (string)s!["name"]! == "model stories:latest");

        using var client = TestTokens.Client(server, TestTokens.For("alice"));
        Assert.Equal(200, (int)(await client.PostAsync("/ai/generate", TestServer.JsonContent(new { prompt = "Hi", model = "stories", max_tokens = 1 }))).StatusCode);
        var expires = JsonNode.Parse(await server.Client.GetStringAsync("/api/ps"))!["models"]!.AsArray().Single()!["expires_at"]!.ToString();

        var after = JsonNode.Parse(await server.Client.GetStringAsync("/services/status"))!.AsArray();
        var model = after.Single(s => (string)s!["name"]! == "model stories:latest")!;
        Assert.Equal("up", (string)model["status"]!);
        Assert.Equal("model://stories:latest", (string)model["url"]!);
        Assert.True((double)model["response_time_ms"]! > 0);
        // No PostgreSQL is configured for this server, so none is listed.
        Assert.DoesNotContain(after, s => (string)s!["name"]! == "postgresql");
        // Probing neither loads models nor changes when a loaded one expires.
        var psAfter = JsonNode.Parse(await server.Client.GetStringAsync("/api/ps"))!["models"]!.AsArray();
        Assert.Single(psAfter);
        var drift = DateTimeOffset.Parse(psAfter[0]!["expires_at"]!.ToString()) - DateTimeOffset.Parse(expires);
        Assert.InRange(drift.TotalSeconds, -1, 1);
    }

    [Fact]
    public async Task Liveness_and_readiness_stay_open()
    {
        Assert.Equal(200, (int)(await server.Client.GetAsync("/health")).StatusCode);
        Assert.Equal(200, (int)(await server.Client.GetAsync("/health/ready")).StatusCode);
    }
}

/// <summary>A server configured with a PostgreSQL that is not there.</summary>
public sealed class UnreachableDatabaseServer : PlatformServer
{
    protected override IEnumerable<string> PlatformSettings => ["--Platform:Database:ConnectionString=Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=2"];
}

public sealed class UnreachableDatabaseStatusTests(UnreachableDatabaseServer server) : IClassFixture<UnreachableDatabaseServer>
{
    [Fact]
    public async Task A_configured_database_that_does_not_answer_is_reported_down_without_its_password()
    {
        var statuses = JsonNode.Parse(await server.Client.GetStringAsync("/services/status"))!.AsArray();
        var database = statuses.Single(s => (string)s!["name"]! == "postgresql")!;
        Assert.Equal("down", (string)database["status"]!);
        Assert.Equal("postgresql://127.0.0.1:1/none", (string)database["url"]!);
        Assert.Equal("up", (string)statuses.Single(s => (string)s!["name"]! == "inference engine")!["status"]!);
    }
}

public sealed class PlatformOpenApiTests(PlatformServer server) : IClassFixture<PlatformServer>
{
    [Fact]
    public async Task The_openapi_document_declares_the_bearer_scheme_on_the_ai_routes_only()
    {
        var doc = await server.GetJsonAsync("/openapi/v1.json");
        var scheme = doc["components"]!["securitySchemes"]!["Bearer"]!;
        Assert.Equal("http", (string)scheme["type"]!);
        Assert.Equal("bearer", (string)scheme["scheme"]!);
        Assert.Equal("JWT", (string)scheme["bearerFormat"]!);
        var generate = doc["paths"]!["/ai/generate"]!["post"]!;
        Assert.NotNull(generate["security"]![0]!["Bearer"]);
        Assert.NotNull(generate["requestBody"]!["content"]!["application/json"]!["schema"]);
        Assert.Null(doc["paths"]!["/api/generate"]!["post"]!["security"]);
        Assert.NotNull(doc["paths"]!["/services/status"]);
    }
}

[Collection("postgres")]
public sealed class DatabaseStatusTests(Inference.Tests.Platform.Sql.TestDatabase database) : IAsyncLifetime
{
    private sealed class Server(Inference.Tests.Platform.Sql.TestDatabase database) : PlatformServer
    {
        protected override IEnumerable<string> PlatformSettings => database.ServerSettings;
    }

    private readonly Server _server = new(database);

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_configured_database_is_probed_and_reported_up_with_its_address_but_no_credentials()
    {
        var statuses = JsonNode.Parse(await _server.Client.GetStringAsync("/services/status"))!.AsArray();
        var postgres = statuses.Single(s => (string)s!["name"]! == "postgresql")!;
        Assert.Equal("up", (string)postgres["status"]!);
        Assert.Matches(@"^postgresql://127\.0\.0\.1:\d+/" + database.DatabaseName + "$", (string)postgres["url"]!);
        Assert.True((double)postgres["response_time_ms"]! > 0);
    }
}
