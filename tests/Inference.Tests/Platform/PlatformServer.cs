using Inference.Tests.Support;

namespace Inference.Tests.Platform;

/// <summary>The real server with the platform's token validation configured (HS256 and RS256 test keys).</summary>
public class PlatformServer : TestServer
{
    protected override IEnumerable<string> Settings => [.. TestTokens.ServerSettings, .. PlatformSettings];

    /// <summary>More settings for a derived server (rate limits, database, ...).</summary>
    protected virtual IEnumerable<string> PlatformSettings => [];
}
