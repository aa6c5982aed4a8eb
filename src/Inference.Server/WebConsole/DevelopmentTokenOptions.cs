namespace Inference.Server.WebConsole;

/// <summary>
/// The console's development token helper (section "Platform:DevelopmentTokens"): off unless enabled,
/// and refused at start-up without an HS256 Platform:Auth:SigningKey to sign with.
/// </summary>
public sealed class DevelopmentTokenOptions
{
    public const string Section = "Platform:DevelopmentTokens";

    /// <summary>Serves GET/POST /ui/dev-token. Never on by default: anyone who can reach the route gets a valid token.</summary>
    public bool Enabled { get; set; }

    /// <summary>The tenant schemas a minted token may name; a request for any other is refused.</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>The minted tokens' subject ("sub"): one name, so their per-user rate limits are shared.</summary>
    public string Subject { get; set; } = "console-developer";

    /// <summary>How long a minted token stays valid (1 minute to 1 day).</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Why these settings cannot start the server, or none.</summary>
    public IEnumerable<string> Errors(bool hasSigningKey)
    {
        if (!Enabled) yield break;
        if (!hasSigningKey)
            yield return "Platform:DevelopmentTokens:Enabled needs Platform:Auth:SigningKey (an HS256 secret) to sign the tokens it mints";
        if (Lifetime < TimeSpan.FromMinutes(1) || Lifetime > TimeSpan.FromDays(1))
            yield return "Platform:DevelopmentTokens:Lifetime must be between 00:01:00 and 1.00:00:00";
        if (string.IsNullOrWhiteSpace(Subject)) yield return "Platform:DevelopmentTokens:Subject must name the tokens' subject";
        if (Tenants.Any(string.IsNullOrWhiteSpace)) yield return "Platform:DevelopmentTokens:Tenants must not hold empty names";
    }
}
