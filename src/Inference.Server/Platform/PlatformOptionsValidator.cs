using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Inference.Server.Platform;

/// <summary>
/// Refuses to start with signing settings that would make every token fail, or be weak:
/// a short HS256 secret, an unreadable RS256 key, or a key without issuer and audience.
/// </summary>
public sealed class PlatformOptionsValidator : IValidateOptions<PlatformOptions>
{
    public ValidateOptionsResult Validate(string? name, PlatformOptions options)
    {
        var auth = options.Auth;
        var errors = new List<string>();
        if (!string.IsNullOrEmpty(auth.SigningKey) && Encoding.UTF8.GetByteCount(auth.SigningKey) < 32)
            errors.Add("Platform:Auth:SigningKey must be at least 32 bytes (HS256 needs a 256-bit secret)");
        if (!string.IsNullOrEmpty(auth.RsaPublicKey) && RsaKeyError(auth.RsaPublicKey) is { } rsa)
            errors.Add("Platform:Auth:RsaPublicKey " + rsa);
        if (PlatformAuth.IsConfigured(auth) && (string.IsNullOrWhiteSpace(auth.Issuer) || string.IsNullOrWhiteSpace(auth.Audience)))
            errors.Add("Platform:Auth:Issuer and Platform:Auth:Audience are required when a signing key is set");
        if (string.IsNullOrWhiteSpace(auth.TenantsClaim)) errors.Add("Platform:Auth:TenantsClaim must name a claim");
        errors.AddRange(options.DevelopmentTokens.Errors(hasSigningKey: !string.IsNullOrEmpty(auth.SigningKey)));
        if (options.ResponseCache.Enabled && !options.Redis.IsConfigured) errors.Add("Platform:ResponseCache:Enabled needs Platform:Redis:ConnectionString");
        if (options.ResponseCache.TtlSeconds is < 1 or > 30 * 86_400) errors.Add("Platform:ResponseCache:TtlSeconds must be between 1 and 2592000");
        if (options.ResponseCache.MaxEntryBytes is < 1 or > 16 * 1024 * 1024) errors.Add("Platform:ResponseCache:MaxEntryBytes must be between 1 and 16777216");
        if (options.Redis.TimeoutMilliseconds is < 50 or > 30_000) errors.Add("Platform:Redis:TimeoutMilliseconds must be between 50 and 30000");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string? RsaKeyError(string value)
    {
        try
        {
            var pem = value.Contains("-----BEGIN", StringComparison.Ordinal) ? value : File.ReadAllText(value);
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa.KeySize < 2048 ? "must be at least 2048 bits" : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
        {
            return "is neither a PEM public key nor a readable PEM file: " + ex.Message;
        }
    }
}
