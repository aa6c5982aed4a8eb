using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Inference.Server.Platform;

/// <summary>The caller of an /ai/* route: the token's subject and the tenant schemas it may use.</summary>
public sealed record PlatformUser(string Subject, IReadOnlySet<string> Tenants)
{
    /// <summary>Whether the user may read the named tenant schema (exact, case-sensitive match).</summary>
    public bool MayAccess(string schema) => Tenants.Contains(schema);

    public static PlatformUser From(HttpContext http)
    {
        var claimType = http.RequestServices.GetRequiredService<IOptions<PlatformOptions>>().Value.Auth.TenantsClaim;
        return From(http.User, claimType);
    }

    public static PlatformUser From(ClaimsPrincipal principal, string tenantsClaim)
    {
        var subject = principal.FindFirst("sub")?.Value ?? throw new InvalidOperationException("the route requires an authenticated user");
        var tenants = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in principal.FindAll(tenantsClaim))
        {
            // A JSON array claim arrives as one claim per element; a string may also hold a JSON array or a comma list.
            var value = claim.Value.Trim();
            if (value.StartsWith('['))
            {
                try
                {
                    foreach (var item in JsonDocument.Parse(value).RootElement.EnumerateArray())
                        if (item.ValueKind == JsonValueKind.String) tenants.Add(item.GetString()!);
                    continue;
                }
                catch (JsonException)
                {
                }
            }
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) tenants.Add(part);
        }
        return new PlatformUser(subject, tenants);
    }
}
