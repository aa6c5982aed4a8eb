using System.ComponentModel.DataAnnotations;

namespace Inference.Server.Platform;

/// <summary>Settings of the platform's own /ai/* routes (section "Platform").</summary>
public sealed class PlatformOptions
{
    public const string Section = "Platform";

    public PlatformAuthOptions Auth { get; set; } = new();
    public PlatformRateLimitOptions RateLimits { get; set; } = new();
    public PlatformDatabaseOptions Database { get; set; } = new();
    public PlatformRedisOptions Redis { get; set; } = new();
    public PlatformResponseCacheOptions ResponseCache { get; set; } = new();

    /// <summary>The web console's token helper (/ui/dev-token); off by default.</summary>
    public WebConsole.DevelopmentTokenOptions DevelopmentTokens { get; set; } = new();

    /// <summary>Model for /ai/generate when a request names none; empty = the first installed model.</summary>
    public string DefaultModel { get; set; } = "";

    /// <summary>The catalog's model per task (models/catalog.json); used when installed.</summary>
    public string SqlModel { get; set; } = "llama3.2:1b";
    public string CodeModel { get; set; } = "codellama:7b";

    /// <summary>
    /// Caps the SQL assistant's answer at this many tokens (0 = the grammar's own bound, which never cuts an answer).
    /// A smaller cap makes the grammar close the answer early (complete by construction); tests use it to show that.
    /// </summary>
    public int SqlAnswerTokenLimit { get; set; }

    /// <summary>Puts the Ollama (/api) and OpenAI (/v1) routes behind the same bearer tokens; off by default, as in Ollama.</summary>
    public bool RequireAuthOnCompatibleRoutes { get; set; }
}

/// <summary>
/// JWT bearer validation: an HS256 shared secret and/or RS256 public keys. Issuer, audience and
/// lifetime are always validated; tokens signed with anything else (or alg "none") are refused.
/// </summary>
public sealed class PlatformAuthOptions
{
    public string Issuer { get; set; } = "";
    public string Audience { get; set; } = "";

    /// <summary>HS256 shared secret (at least 32 bytes of UTF-8).</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>RS256 public key in PEM ("-----BEGIN PUBLIC KEY-----..."), or a path to a PEM file.</summary>
    public string RsaPublicKey { get; set; } = "";

    /// <summary>Claim listing the tenant schemas the user may access (a JSON array or repeated claims).</summary>
    public string TenantsClaim { get; set; } = "tenants";

    /// <summary>Clock skew tolerated on exp/nbf.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Requests per user per hour on each group of routes (0 = unlimited).</summary>
public sealed class PlatformRateLimitOptions
{
    [Range(0, 10_000_000)] public int GenerationPerHour { get; set; } = 100;
    [Range(0, 10_000_000)] public int SqlAssistPerHour { get; set; } = 200;
    [Range(0, 10_000_000)] public int CodeCompletionPerHour { get; set; } = 500;
}
